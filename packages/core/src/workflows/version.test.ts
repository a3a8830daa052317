import { describe, expect, test } from "bun:test";
import { MAX_VERSION, parseVersion } from "./version.ts";

describe("parseVersion", () => {
  test("reads the decimal numbers a version can be", () => {
    expect(parseVersion("1")).toBe(1);
    expect(parseVersion("42")).toBe(42);
    expect(parseVersion(String(MAX_VERSION))).toBe(MAX_VERSION);
  });

  test("refuses anything else: zero, signs, leading zeros, fractions, other spellings, overflow", () => {
    for (const text of ["", "0", "-1", "+1", "01", "1.0", "1e3", "0x1", " 1", "1 ", "abc", String(MAX_VERSION + 1), "99999999999"])
      expect({ text, n: parseVersion(text) }).toEqual({ text, n: undefined });
  });
});
