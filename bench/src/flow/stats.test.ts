import { describe, expect, test } from "bun:test";
import { histogram, inconsistencies, percentile, stats } from "./stats.ts";

describe("flow statistics", () => {
  test("nearest-rank percentiles from the full data", () => {
    const s = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(s, 50), percentile(s, 90), percentile(s, 99), percentile(s, 100)]).toEqual([50, 90, 99, 100]);
    expect(percentile(Float64Array.of(7), 99)).toBe(7);
  });

  test("stats are ordered and add up", () => {
    const lat = Float64Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 1000) / 3);
    const s = stats(lat, 12);
    expect(s.count).toBe(1000);
    expect(s.failed).toBe(12);
    expect(inconsistencies(s)).toEqual([]);
    expect(inconsistencies({ ...s, p90_ms: s.p99_ms + 1 })).toEqual([`p90 ${s.p99_ms + 1} > p95 ${s.p95_ms}`]);
  });

  test("cumulative histogram ends at the sample count", () => {
    const h = histogram(Float64Array.of(0.5, 3, 3, 40, 70_000));
    expect(h.find((b) => b.le_ms === 1)!.count).toBe(1);
    expect(h.find((b) => b.le_ms === 5)!.count).toBe(3);
    expect(h.at(-1)!.count).toBe(5);
  });
});
