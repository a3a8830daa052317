import type { Stats } from "../results.ts";

/** Nearest-rank percentile of sorted samples (exact, from the full data). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Statistics of latency samples; `failed` counts the samples that were failures. */
export function stats(latencies: Float64Array, failed: number): Stats {
  const sorted = Float64Array.from(latencies).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const n = sorted.length;
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    count: n,
    ok: n - failed,
    failed,
    mean_ms: n ? round(sum / n) : 0,
    p50_ms: round(percentile(sorted, 50)),
    p90_ms: round(percentile(sorted, 90)),
    p95_ms: round(percentile(sorted, 95)),
    p99_ms: round(percentile(sorted, 99)),
    min_ms: n ? round(sorted[0]!) : 0,
    max_ms: n ? round(sorted[n - 1]!) : 0,
  };
}

/** Cumulative histogram on a 1-2-5 scale of bounds from 1 ms to 100 s. */
export function histogram(latencies: Float64Array): Array<{ le_ms: number; count: number }> {
  const bounds: number[] = [];
  for (let d = 1; d <= 100_000; d *= 10) bounds.push(d, 2 * d, 5 * d);
  const sorted = Float64Array.from(latencies).sort();
  let i = 0;
  return bounds.map((le) => {
    while (i < sorted.length && sorted[i]! <= le) i++;
    return { le_ms: le, count: i };
  });
}

/** What is wrong with a Stats record (counts that do not add up, percentiles out of order); empty when sound. */
export function inconsistencies(s: Stats): string[] {
  const problems: string[] = [];
  if (s.ok + s.failed !== s.count) problems.push(`ok ${s.ok} + failed ${s.failed} != count ${s.count}`);
  const order: Array<[string, number]> = [
    ["min", s.min_ms],
    ["p50", s.p50_ms],
    ["p90", s.p90_ms],
    ["p95", s.p95_ms],
    ["p99", s.p99_ms],
    ["max", s.max_ms],
  ];
  for (let i = 1; i < order.length; i++)
    if (order[i - 1]![1] > order[i]![1]) problems.push(`${order[i - 1]![0]} ${order[i - 1]![1]} > ${order[i]![0]} ${order[i]![1]}`);
  if (s.count > 0 && (s.mean_ms < s.min_ms || s.mean_ms > s.max_ms)) problems.push(`mean ${s.mean_ms} outside [min, max]`);
  return problems;
}
