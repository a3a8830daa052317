import { describe, expect, test } from "bun:test";
import { HttpError } from "./http-error.ts";
import { nestsDeeperThan, parseJsonBody } from "./json-text.ts";

const fails = (text: string, max: number): string | undefined => {
  try {
    parseJsonBody(text, max);
    return undefined;
  } catch (err) {
    return err instanceof HttpError ? `${err.status} ${err.title}` : String(err);
  }
};

describe("request body JSON", () => {
  test("measures nesting, ignoring brackets inside strings and escaped quotes", () => {
    expect(nestsDeeperThan("[[1]]", 2)).toBe(false);
    expect(nestsDeeperThan("[[[1]]]", 2)).toBe(true);
    expect(nestsDeeperThan('{"a":{"b":[]}}', 3)).toBe(false);
    expect(nestsDeeperThan('{"a":"[[[[{{{{","b":"\\"[[[["}', 1)).toBe(false);
    expect(nestsDeeperThan("[[],[],[[]]]", 3)).toBe(false);
    expect(nestsDeeperThan("[[],[],[[]]]", 2)).toBe(true);
  });

  test("too deep is a 400 before parsing, however deep: a 1 MB of [ neither throws nor recurses", () => {
    expect(fails("[".repeat(1_000_000), 32)).toBe("400 JSON Too Deep");
    expect(fails(`${"[".repeat(500_000)}${"]".repeat(500_000)}`, 32)).toBe("400 JSON Too Deep");
    expect(fails(`${"[".repeat(32)}${"]".repeat(32)}`, 32)).toBeUndefined();
  });

  test("malformed is a 400; one byte order mark is ignored", () => {
    for (const bad of ["{", "nul", "[1,]", "{'a':1}", "\ufeff\ufeff{}", " "]) expect(fails(bad, 32)).toBe("400 Malformed JSON");
    expect(parseJsonBody('\ufeff{"a":1}', 32)).toEqual({ a: 1 });
  });
});
