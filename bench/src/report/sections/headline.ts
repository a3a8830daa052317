/** Bun against Node at a glance: the flow's headline figures, their ratio, and two charts. */
import { type Block, blockWriter } from "../blocks.ts";
import { bar, barChart, COLOR } from "../charts.ts";
import type { ReportContext } from "../context.ts";
import { better, figureCells } from "../figures.ts";
import { int } from "../format.ts";
import { TARGET_LABEL } from "../labels.ts";

export function headlineSection({ r, present, users, both, figs }: ReportContext): Block[] {
  const w = blockWriter();
  w.h2("Headline: Bun against Node", "headline");
  if (r.flow.length === 0) {
    w.p("No flow runs are in these results.");
    return w.blocks;
  }
  w.p(
    `Each virtual user runs the 7 steps of the original reports in order. Figures are the **median over rounds** of each target; ` +
      `**Bun/Node** is Bun's figure divided by Node's, the median of the rounds paired in the order they ran, and **ratio range** is its spread (min–max) over those pairs. ` +
      `For throughput and users completed a ratio above 1 favours Bun; for latency, errors and wall time a ratio below 1 does.`,
  );
  if (!both) w.p(`Only ${present.map((t) => TARGET_LABEL[t]).join(", ")} was measured, so there is no ratio.`);
  w.table(
    ["Metric", "Bun", "Node", "Bun/Node", "Ratio range", "Better"],
    figs.map((f) => [
      f.unit === "users" && users.length === 1 ? `${f.metric} (of ${int(users[0])})` : `${f.metric} (${f.unit})`,
      ...figureCells(f),
      better(f),
    ]),
    ["l", "r", "r", "r", "r", "l"],
  );
  w.p("Each round's own figures are in **Every round** below.");
  const pick = (names: string[]) => figs.filter((f) => names.includes(f.metric));
  const tp = pick(["Throughput, all requests", "Throughput, successful requests"]);
  // max is left to the table: one slow outlier would flatten the percentiles.
  const lat = pick(["Latency p50", "Latency p90", "Latency p95", "Latency p99"]);
  w.charts([
    barChart(
      "headline-throughput",
      "Throughput, median of rounds (req/s)",
      tp.map((f) => f.metric.replace("Throughput, ", "")),
      [
        bar(
          "Bun",
          tp.map((f) => f.bunMedian),
          COLOR.bun,
        ),
        bar(
          "Node",
          tp.map((f) => f.nodeMedian),
          COLOR.node,
        ),
      ],
      "req/s",
    ),
    barChart(
      "headline-latency",
      "Latency of all requests, p50 to p99, median of rounds (ms)",
      lat.map((f) => f.metric.replace("Latency ", "")),
      [
        bar(
          "Bun",
          lat.map((f) => f.bunMedian),
          COLOR.bun,
        ),
        bar(
          "Node",
          lat.map((f) => f.nodeMedian),
          COLOR.node,
        ),
      ],
      "ms",
    ),
  ]);
  return w.blocks;
}
