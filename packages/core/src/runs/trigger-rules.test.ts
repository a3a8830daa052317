import { describe, expect, test } from "bun:test";
import { parseRfc3339, validateTrigger } from "./trigger-rules.ts";

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

describe("a later start: run_at or delay_ms", () => {
  test("an RFC 3339 run_at with its offset, or a delay_ms within 30 days", () => {
    for (const run_at of ["2030-01-31T09:00:00Z", "2024-02-29T23:59:59.123456+01:00", "2000-01-01t00:00:00z", "2030-12-31T00:00:00-05:30"])
      expect(validateTrigger({ run_at }, limits)).toEqual([]);
    for (const delay_ms of [0, 1, 30 * 24 * 3_600_000]) expect(validateTrigger({ delay_ms }, limits)).toEqual([]);
  });

  test("a run_at that is not a real instant is an error at /run_at", () => {
    for (const run_at of [
      "2023-02-29T00:00:00Z",
      "2024-02-30T00:00:00Z",
      "2024-13-01T00:00:00Z",
      "2024-01-01T24:00:00Z",
      "2024-01-01T10:60:00Z",
      "2024-01-01T10:00:00",
      "2024-01-01",
      "2024-01-01T10:00:00+25:00",
      "tomorrow",
    ])
      expect(validateTrigger({ run_at }, limits).map((e) => e.path)).toEqual(["/run_at"]);
  });

  test("a delay_ms out of range, or both fields, are errors at /delay_ms", () => {
    for (const delay_ms of [-1, 1.5, 30 * 24 * 3_600_000 + 1])
      expect(validateTrigger({ delay_ms }, limits).map((e) => e.path)).toEqual(["/delay_ms"]);
    expect(validateTrigger({ run_at: "2030-01-01T00:00:00Z", delay_ms: 5 }, limits)).toEqual([
      { path: "/delay_ms", message: "give run_at or delay_ms, not both" },
    ]);
  });

  test("parseRfc3339 reads the offset", () => {
    expect(parseRfc3339("2030-01-01T01:00:00+01:00")?.toISOString()).toBe("2030-01-01T00:00:00.000Z");
    expect(parseRfc3339("2030-01-01T00:00:00.5Z")?.toISOString()).toBe("2030-01-01T00:00:00.500Z");
    expect(parseRfc3339("2030-02-31T00:00:00Z")).toBeUndefined();
  });
});

describe("parseRfc3339", () => {
  test("an instant before year 1, which PostgreSQL cannot store, is taken as the first one it can", () => {
    const first = new Date("0001-01-01T00:00:00Z");
    expect(parseRfc3339("0000-01-01T00:00:00Z")).toEqual(first);
    expect(parseRfc3339("0001-01-01T00:30:00+01:00")).toEqual(first);
    expect(parseRfc3339("0001-01-01T00:00:01Z")).toEqual(new Date("0001-01-01T00:00:01Z"));
  });
});
