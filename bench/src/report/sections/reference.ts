/** The seed reports' published Python and Rust figures (other hardware), with this run's medians beside them. */
import type { Target } from "../../results.ts";
import { type Block, blockWriter, type ChartSpec } from "../blocks.ts";
import { bar, barChart, COLOR } from "../charts.ts";
import type { ReportContext } from "../context.ts";
import { errorPct } from "../figures.ts";
import { int, median, ms, pct, rps, sec } from "../format.ts";
import { TARGET_LABEL } from "../labels.ts";

export function referenceSection({ r, runsOf, present, users }: ReportContext): Block[] {
  const w = blockWriter();
  w.h2("Reference: the original Python and Rust reports", "reference");
  if (r.reference.length === 0) {
    w.p("No reference figures are in these results.");
    return w.blocks;
  }
  w.p(
    "The Python (FastAPI) and Rust (Actix-Web) rows are **published by the original reports, on other hardware** (their machine, behind Nginx). " +
      "They were not measured here: they give context, not a same-machine comparison. Our medians for the same number of users stand beside them.",
  );
  const ours = (t: Target) => {
    const runs = runsOf(t);
    return {
      label: runs.length === 1 ? `${TARGET_LABEL[t]} (1 round)` : `${TARGET_LABEL[t]} (median of ${runs.length} rounds)`,
      users: runs[0]?.users ?? 0,
      throughput_rps: median(runs.map((f) => f.throughput_rps)),
      error_pct: median(runs.map(errorPct)),
      p50_ms: median(runs.map((f) => f.overall.p50_ms)),
      p99_ms: median(runs.map((f) => f.overall.p99_ms)),
      wall_s: median(runs.map((f) => f.wall_s)),
    };
  };
  const mine = present.map(ours);
  const row = (x: (typeof mine)[number] | (typeof r.reference)[number], where: string) => [
    x.label,
    where,
    int(x.users),
    rps(x.throughput_rps),
    pct(x.error_pct),
    ms(x.p50_ms),
    ms(x.p99_ms),
    sec(x.wall_s),
  ];
  w.table(
    ["Source", "Measured", "Users", "Throughput (req/s)", "Errors (%)", "p50 (ms)", "p99 (ms)", "Wall time (s)"],
    [
      ...mine.map((x) => row(x, "here, this run")),
      ...r.reference.map((x) => row(x, "published by the original reports, on other hardware")),
    ],
    ["l", "l", "r", "r", "r", "r", "r", "r"],
  );
  const comparable = r.reference.filter((x) => users.includes(x.users));
  if (comparable.length && mine.length) {
    const labels = [
      ...mine.map((m) => m.label.split(" (")[0]!),
      ...comparable.map((x) => `${x.label.split(" (")[0]!.split(",")[0]} (published)`),
    ];
    const colors = [...present.map((t) => COLOR[t]), ...comparable.map((_, i) => COLOR.reference[i % COLOR.reference.length]!)];
    const rows = [...mine, ...comparable];
    const single = (id: string, title: string, unit: string, pickV: (x: (typeof rows)[number]) => number) =>
      barChart(id, title, labels, [{ ...bar(title, rows.map(pickV), colors[0]!), backgroundColor: colors, borderColor: colors }], unit);
    const chart = (c: ChartSpec) => {
      (c.config.options!.plugins as Record<string, unknown>).legend = { display: false };
      return c;
    };
    w.charts([
      chart(
        single(
          "reference-throughput",
          `Throughput at ${int(comparable[0]!.users)} users (req/s), published rows from other hardware`,
          "req/s",
          (x) => x.throughput_rps,
        ),
      ),
      chart(
        single(
          "reference-p99",
          `p99 latency at ${int(comparable[0]!.users)} users (ms), published rows from other hardware`,
          "ms",
          (x) => x.p99_ms,
        ),
      ),
    ]);
  } else if (mine.length) w.p(`The reports published no figures for ${users.map(int).join(", ")} users, so there is no chart beside them.`);
  return w.blocks;
}
