import { describe, expect, test } from "bun:test";
import { isStorableText, jsonBytes, jsonValueProblems } from "./storable.ts";

describe("storable text", () => {
  test("refuses NUL and unpaired surrogates, keeps paired ones", () => {
    expect(["", "abc", "名前", "\ud83d\ude00", "a\ud83d\ude00b"].map(isStorableText)).toEqual([true, true, true, true, true]);
    expect(["\u0000", "a\u0000", "\ud800", "x\udbff", "\udc00y", "\udfff\ud800"].map(isStorableText)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});

describe("jsonValueProblems", () => {
  test("finds bad strings, keys and numbers with their paths", () => {
    const v = { a: ["ok", "b\u0000"], "\ud800": 1, n: Infinity, deep: { s: "x".repeat(11) } };
    expect(jsonValueProblems(v, "/input", { maxStringLength: 10 }).map((e) => e.path)).toEqual([
      "/input",
      "/input/a/1",
      "/input/n",
      "/input/deep/s",
    ]);
  });

  test("accepts ordinary JSON, prototype-named keys included", () => {
    expect(jsonValueProblems(JSON.parse('{"__proto__":{"constructor":[1,"x",null,true]},"toString":"y"}'), "")).toEqual([]);
  });

  test("walks any depth without recursion and reports a bounded number of problems", () => {
    let v: unknown = "\u0000";
    for (let i = 0; i < 100_000; i++) v = [v];
    expect(jsonValueProblems(v, "")).toHaveLength(1);
    expect(
      jsonValueProblems(
        Array.from({ length: 1000 }, () => "\u0000"),
        "",
      ),
    ).toHaveLength(20);
  });

  test("jsonBytes counts UTF-8 bytes of the JSON", () => {
    expect(jsonBytes({ a: "é" })).toBe(10);
  });
});
