import { describe, expect, test } from "bun:test";
import { sampleBaseline, sampleResults } from "../report/sample.ts";
import { extractBaseline } from "./baseline.ts";
import { baselineSummary } from "./summary.ts";

describe("baselineSummary", () => {
  const now = extractBaseline(sampleResults());

  test("says in one line that there is no baseline, and why", () => {
    expect(baselineSummary(now, { ok: false, path: "bench/baselines/10k.json", reason: "no baseline" })).toEqual([
      "[baseline] none used for scenario 10k (bench/baselines/10k.json: no baseline); nothing to compare with",
    ]);
  });

  test("gives each figure: this run, the baseline, the change, and WORSE where it regressed", () => {
    const lines = baselineSummary(now, { ok: true, path: "bench/baselines/10k.json", baseline: sampleBaseline() });
    expect(lines[0]).toBe("[baseline] against bench/baselines/10k.json, the run of 2026-11-22T08:00:00.000Z on 0000000:");
    expect(lines).toHaveLength(1 + 13);
    expect(lines.find((l) => l.includes("Bun throughput"))).toMatch(
      /Bun throughput \(req\/s\) +4,965\.2 {2}baseline 5,200\.0 {2,}-4\.5% {2}WORSE$/,
    );
    expect(lines.find((l) => l.includes("Bun p99"))).toMatch(/-5\.4% {2}better$/);
    expect(lines.at(-1)).toMatch(/^\[baseline\] Bun\/Node throughput +3\.81× {2}baseline +4\.10× {2,}-7\.1% {2}WORSE$/);
  });

  test("warns when the runs were not made alike", () => {
    const lines = baselineSummary(now, { ok: true, path: "b.json", baseline: { ...sampleBaseline(), api_replicas: 1 } });
    expect(lines[1]).toBe("[baseline] not like for like: API replicas 2 here, 1 in the baseline");
  });
});
