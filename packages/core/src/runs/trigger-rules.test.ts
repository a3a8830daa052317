import { describe, expect, test } from "bun:test";
import { validateTrigger } from "./trigger-rules.ts";

const limits = { maxInputBytes: 64 };

describe("validateTrigger", () => {
  test("accepts an ordinary input and key", () => {
    expect(validateTrigger({ input: { id: 1, note: "名前", toString: "x" }, idempotency_key: "k-1" }, limits)).toEqual([]);
    expect(validateTrigger({}, limits)).toEqual([]);
  });

  test("an input over the configured size is one error at /input", () => {
    const errs = validateTrigger({ input: { s: "é".repeat(40) } }, limits);
    expect(errs).toEqual([{ path: "/input", message: "input is 88 bytes of JSON; at most 64 are accepted" }]);
  });

  test("unstorable strings and out-of-range numbers are errors at their paths", () => {
    // biome-ignore lint/correctness/noPrecisionLoss: 1e309 is the out-of-range number under test
    expect(validateTrigger({ input: { a: "\u0000", b: [1e309] }, idempotency_key: "\ud800" }, limits).map((e) => e.path)).toEqual([
      "/idempotency_key",
      "/input/a",
      "/input/b/0",
    ]);
  });
});
