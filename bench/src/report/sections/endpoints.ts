/** Latency per step of the flow, per target, and the latency histogram. */
import { FLOW_STEPS, type FlowRun, type FlowStep, type Stats, type Target } from "../../results.ts";
import { type Block, blockWriter, type ChartSpec } from "../blocks.ts";
import { bar, barChart, COLOR } from "../charts.ts";
import type { ReportContext } from "../context.ts";
import { int, median, ms } from "../format.ts";
import { STEP_LABEL, TARGET_LABEL } from "../labels.ts";

/** Per-endpoint statistics of one target over its rounds. */
export function stepAcrossRounds(runs: FlowRun[], step: FlowStep): Stats {
  const s = runs.map((r) => r.per_step[step]).filter(Boolean);
  const sum = (k: keyof Stats) => s.reduce((a, x) => a + x[k], 0);
  const med = (k: keyof Stats) => median(s.map((x) => x[k]));
  return {
    count: sum("count"),
    ok: sum("ok"),
    failed: sum("failed"),
    mean_ms: med("mean_ms"),
    p50_ms: med("p50_ms"),
    p90_ms: med("p90_ms"),
    p95_ms: med("p95_ms"),
    p99_ms: med("p99_ms"),
    min_ms: s.length ? Math.min(...s.map((x) => x.min_ms)) : Number.NaN,
    max_ms: s.length ? Math.max(...s.map((x) => x.max_ms)) : Number.NaN,
  };
}

function boundLabel(le: number): string {
  return le >= 1000 ? `${(le / 1000).toLocaleString("en-US")} s` : `${le.toLocaleString("en-US")} ms`;
}

/** Requests per latency bucket, summed over a target's rounds (from the cumulative histograms). */
export function histogramBuckets(flow: FlowRun[]): { labels: string[]; counts: Record<Target, number[]> } {
  const bounds = [...new Set(flow.flatMap((f) => f.histogram.map((h) => h.le_ms)))].sort((a, b) => a - b);
  const labels = bounds.map((le, i) => (i === 0 ? `≤ ${boundLabel(le)}` : `${boundLabel(bounds[i - 1]!)} – ${boundLabel(le)}`));
  if (bounds.length) labels.push(`> ${boundLabel(bounds[bounds.length - 1]!)}`);
  const counts = { bun: labels.map(() => 0), node: labels.map(() => 0) } as Record<Target, number[]>;
  for (const f of flow) {
    const cum = new Map(f.histogram.map((h) => [h.le_ms, h.count]));
    let prev = 0;
    bounds.forEach((le, i) => {
      const c = cum.get(le) ?? prev;
      counts[f.target][i]! += c - prev;
      prev = c;
    });
    counts[f.target][bounds.length]! += Math.max(0, f.requests - prev);
  }
  // Keep the buckets from the first to the last non-empty one.
  const any = labels.map((_, i) => counts.bun[i]! + counts.node[i]! > 0);
  const first = any.indexOf(true);
  const last = any.lastIndexOf(true);
  if (first < 0) return { labels: [], counts: { bun: [], node: [] } };
  return {
    labels: labels.slice(first, last + 1),
    counts: { bun: counts.bun.slice(first, last + 1), node: counts.node.slice(first, last + 1) },
  };
}

export function endpointsSection({ r, runsOf, present }: ReportContext): Block[] {
  const w = blockWriter();
  if (!r.flow.length) return w.blocks;
  w.h2("Latency per endpoint", "endpoints");
  w.p(
    "The 7 steps of the flow, per target. Count, ok and failed are summed over the rounds; mean and percentiles are the median of the rounds' values; min and max are over all rounds.",
  );
  for (const t of present) {
    const runs = runsOf(t);
    w.h3(`${TARGET_LABEL[t]} (${runs.length} round${runs.length === 1 ? "" : "s"})`);
    w.table(
      ["Endpoint", "Count", "OK", "Failed", "Mean (ms)", "p50 (ms)", "p90 (ms)", "p95 (ms)", "p99 (ms)", "Min (ms)", "Max (ms)"],
      FLOW_STEPS.map((step) => {
        const s = stepAcrossRounds(runs, step);
        return [
          STEP_LABEL[step],
          int(s.count),
          int(s.ok),
          int(s.failed),
          ms(s.mean_ms),
          ms(s.p50_ms),
          ms(s.p90_ms),
          ms(s.p95_ms),
          ms(s.p99_ms),
          ms(s.min_ms),
          ms(s.max_ms),
        ];
      }),
    );
  }
  const per = (t: Target, k: keyof Stats) => FLOW_STEPS.map((step) => stepAcrossRounds(runsOf(t), step)[k]);
  const datasets = present.flatMap((t) => [
    bar(`${TARGET_LABEL[t]} p50`, per(t, "p50_ms"), t === "bun" ? COLOR.bunLight : COLOR.nodeLight),
    bar(`${TARGET_LABEL[t]} p99`, per(t, "p99_ms"), COLOR[t]),
  ]);
  const hist = histogramBuckets(r.flow);
  const charts: ChartSpec[] = [
    barChart(
      "endpoint-latency",
      "Latency per endpoint: p50 and p99 (ms), median of rounds",
      FLOW_STEPS.map((s) => STEP_LABEL[s]),
      datasets,
      "ms",
      { wide: true },
    ),
  ];
  if (hist.labels.length)
    charts.push(
      barChart(
        "histogram",
        "Latency histogram: requests per latency bucket, all rounds",
        hist.labels,
        present.map((t) => bar(TARGET_LABEL[t], hist.counts[t], COLOR[t])),
        "requests",
        { wide: true },
      ),
    );
  w.charts(charts);
  if (hist.labels.length) {
    w.h3("Latency distribution");
    w.p("Requests per latency bucket, summed over all rounds of each target.");
    w.table(
      ["Latency", ...present.map((t) => `${TARGET_LABEL[t]} (requests)`)],
      hist.labels.map((l, i) => [l, ...present.map((t) => int(hist.counts[t][i]))]),
    );
  }
  return w.blocks;
}
