/** Every measured flow, one line each in the order they ran, and throughput over time. */
import type { Target } from "../../results.ts";
import { type Block, blockWriter } from "../blocks.ts";
import { axisTitle, COLOR } from "../charts.ts";
import type { ReportContext } from "../context.ts";
import { int, ms, rps, sec } from "../format.ts";
import { TARGET_LABEL } from "../labels.ts";

export function roundsSection({ r, runsOf }: ReportContext): Block[] {
  const w = blockWriter();
  if (!r.flow.length) return w.blocks;
  w.h2("Every round", "rounds");
  w.p("One line per flow run, in the order they ran. The spread between rounds of one target shows how steady the machine was.");
  w.table(
    [
      "Target",
      "Round",
      "Users",
      "Requests",
      "Failed",
      "Throughput (req/s)",
      "Successful (req/s)",
      "p50 (ms)",
      "p99 (ms)",
      "Max (ms)",
      "Wall time (s)",
      "Users completed",
    ],
    [...r.flow]
      .sort((a, b) => a.round - b.round || a.target.localeCompare(b.target))
      .map((f) => [
        TARGET_LABEL[f.target],
        int(f.round),
        int(f.users),
        int(f.requests),
        int(f.failed),
        rps(f.throughput_rps),
        rps(f.throughput_ok_rps),
        ms(f.overall.p50_ms),
        ms(f.overall.p99_ms),
        ms(f.overall.max_ms),
        sec(f.wall_s),
        int(f.users_completed),
      ]),
  );
  const shades: Record<Target, string[]> = {
    bun: [COLOR.bun, "#fd7e14", "#ffa94d", "#d9480f"],
    node: [COLOR.node, "#40c057", "#69db7c", "#237032"],
  };
  w.charts([
    {
      id: "timeline",
      wide: true,
      title: "Throughput over time: requests finished per second, each round",
      config: {
        type: "line",
        data: {
          datasets: [...r.flow]
            .sort((a, b) => a.target.localeCompare(b.target) || a.round - b.round)
            .map((f) => {
              const i = runsOf(f.target).indexOf(f);
              const color = shades[f.target][i % 4]!;
              return {
                label: `${TARGET_LABEL[f.target]} round ${f.round}`,
                data: f.timeline.map((t) => ({ x: t.t_s, y: t.requests })),
                borderColor: color,
                backgroundColor: color,
                pointRadius: 2,
                tension: 0,
              };
            }),
        },
        options: {
          plugins: {
            title: { display: true, text: "Throughput over time: requests finished per second, each round" },
            legend: { position: "bottom" },
          },
          scales: {
            x: { type: "linear", title: axisTitle("seconds since the round started") },
            y: { beginAtZero: true, title: axisTitle("requests in that second") },
          },
        },
      },
    },
  ]);
  return w.blocks;
}
