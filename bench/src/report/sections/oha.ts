/** Single endpoints under oha: throughput, latency, success and the API's CPU per request, per target. */
import type { OhaRun } from "../../results.ts";
import { type Block, blockWriter } from "../blocks.ts";
import { bar, barChart, COLOR } from "../charts.ts";
import type { ReportContext } from "../context.ts";
import { byRound, type Figure, figure, figureCells } from "../figures.ts";
import { DASH, int, ms, ratio, rps } from "../format.ts";
import { TARGET_LABEL } from "../labels.ts";

/** oha figures of one endpoint: medians over rounds per target, Bun/Node ratios of paired rounds. */
export interface OhaLine {
  endpoint: string;
  method: string;
  concurrency: number;
  duration_s: number;
  rps: Figure;
  p50: Figure;
  p99: Figure;
  success: Figure;
  /** The API's CPU per request sent, where every round of the endpoint recorded it. */
  apiCpu?: Figure;
}

export function ohaLines(oha: OhaRun[]): OhaLine[] {
  const keys = [...new Set(oha.map((o) => `${o.method} ${o.endpoint}`))];
  return keys.map((key) => {
    const mine = oha.filter((o) => `${o.method} ${o.endpoint}` === key);
    const b = byRound(mine.filter((o) => o.target === "bun"));
    const n = byRound(mine.filter((o) => o.target === "node"));
    const f = (metric: string, unit: string, hib: boolean, pick: (o: OhaRun) => number) =>
      figure(metric, unit, hib, b.map(pick), n.map(pick));
    return {
      endpoint: mine[0]!.endpoint,
      method: mine[0]!.method,
      concurrency: mine[0]!.concurrency,
      duration_s: mine[0]!.duration_s,
      rps: f("rps", "req/s", true, (o) => o.rps),
      p50: f("p50", "ms", false, (o) => o.p50_ms),
      p99: f("p99", "ms", false, (o) => o.p99_ms),
      // oha reports the success rate as a fraction.
      success: f("success", "%", true, (o) => (o.success_rate <= 1 ? o.success_rate * 100 : o.success_rate)),
      ...(mine.every((o) => o.api_cpu_us_per_request !== undefined) && {
        apiCpu: f("API CPU per request", "µs", false, (o) => o.api_cpu_us_per_request!),
      }),
    };
  });
}

export function ohaSection({ r, present }: ReportContext): Block[] {
  const w = blockWriter();
  w.h2("Single endpoints under oha", "oha");
  if (r.oha.length === 0) {
    w.p("oha was not run in this benchmark.");
    return w.blocks;
  }
  const lines = ohaLines(r.oha);
  const cs = [...new Set(r.oha.map((o) => o.concurrency))];
  const ds = [...new Set(r.oha.map((o) => o.duration_s))];
  w.p(
    `oha sends requests to one endpoint at a time, ${cs.map(int).join(", ")} connections for ${ds.map((d) => d.toLocaleString("en-US")).join(", ")} s per round. ` +
      "Figures are medians over rounds; Bun/Node is the median ratio of rounds paired in order. Success is the share of requests answered 2xx.",
  );
  w.table(
    [
      "Endpoint",
      "Bun (req/s)",
      "Node (req/s)",
      "Bun/Node req/s",
      "Bun p50 (ms)",
      "Node p50 (ms)",
      "Bun p99 (ms)",
      "Node p99 (ms)",
      "Bun/Node p99",
      "Bun success",
      "Node success",
    ],
    lines.map((l) => [
      `${l.method} ${l.endpoint}`,
      rps(l.rps.bunMedian),
      rps(l.rps.nodeMedian),
      ratio(l.rps.ratio),
      ms(l.p50.bunMedian),
      ms(l.p50.nodeMedian),
      ms(l.p99.bunMedian),
      ms(l.p99.nodeMedian),
      ratio(l.p99.ratio),
      l.success.bun.length ? `${(Math.round(l.success.bunMedian * 100) / 100).toFixed(2)}%` : DASH,
      l.success.node.length ? `${(Math.round(l.success.nodeMedian * 100) / 100).toFixed(2)}%` : DASH,
    ]),
  );
  const measured = lines.filter((l) => l.apiCpu !== undefined);
  if (measured.length > 0) {
    w.p(
      "The API's CPU per request on each endpoint: what its processes used while oha ran (from /proc, user space and kernel), over the requests oha sent. " +
        "`GET /health` answers from memory, so it is about the HTTP layer alone (server, framework, runtime, sockets); the other endpoints add the domain and their drivers' calls to Redis, PostgreSQL or Kafka.",
    );
    w.table(
      ["Endpoint", "Bun (µs)", "Node (µs)", "Bun/Node", "Ratio range"],
      measured.map((l) => [`${l.method} ${l.endpoint}`, ...figureCells(l.apiCpu!)]),
    );
  }
  w.charts([
    barChart(
      "oha-rps",
      "oha: requests per second per endpoint, median of rounds",
      lines.map((l) => `${l.method} ${l.endpoint}`),
      present
        .filter((t) => r.oha.some((o) => o.target === t))
        .map((t) =>
          bar(
            TARGET_LABEL[t],
            lines.map((l) => (t === "bun" ? l.rps.bunMedian : l.rps.nodeMedian)),
            COLOR[t],
          ),
        ),
      "req/s",
      { wide: true },
    ),
  ]);
  return w.blocks;
}
