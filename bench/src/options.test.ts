import { describe, expect, test } from "bun:test";
import { intOption, OptionError } from "./options.ts";

describe("intOption", () => {
  test("accepts a whole number in range", () => {
    expect(intOption("--users", "10000", 1, 100_000)).toBe(10_000);
    expect(intOption("BENCH_WARMUP_FLOWS", "0", 0, 10)).toBe(0);
  });

  test.each(["", "ten", "1.5", "-1", "0", "100001"])("refuses %p, naming the option and the range", (raw) => {
    expect(() => intOption("--users", raw, 1, 100_000)).toThrow(OptionError);
    expect(() => intOption("--users", raw, 1, 100_000)).toThrow(`--users must be an integer from 1 to 100000, got ${JSON.stringify(raw)}`);
  });
});
