import { describe, expect, test } from "bun:test";
import { validateSignal } from "./signal-rules.ts";

const limits = { maxInputBytes: 32 };
const NAME_ERROR = { path: "name", message: "a signal name is 1 to 64 letters, digits, '_' or '-'" };

describe("validateSignal", () => {
  test("a step-like name and any JSON payload, null included, within the size", () => {
    for (const payload of [null, 1, "s", [1], { ok: true }, { toString: "x" }])
      expect(validateSignal("approval", payload, limits)).toEqual([]);
    expect(validateSignal("a".repeat(64), null, limits)).toEqual([]);
    expect(validateSignal("A-b_9", null, limits)).toEqual([]);
  });

  test("a name a step could not wait for is an error at `name`", () => {
    for (const name of ["", "a".repeat(65), "a b", "a.b", "été", "a/b"]) expect(validateSignal(name, null, limits)).toEqual([NAME_ERROR]);
  });

  test("a payload over the size, or one PostgreSQL cannot store, is an error at its path", () => {
    expect(validateSignal("s", "x".repeat(40), limits)).toEqual([
      { path: "", message: "the payload is 42 bytes of JSON; at most 32 are accepted" },
    ]);
    expect(validateSignal("s", { a: ["\u0000"] }, limits).map((e) => e.path)).toEqual(["/a/0"]);
    expect(validateSignal("bad name", "\ud800", limits).map((e) => e.path)).toEqual(["name", ""]);
  });
});
