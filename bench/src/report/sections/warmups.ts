/** Part of the CPU section: the API's CPU per request as each target warmed up, and warm-up failures. */
import type { FlowRun, WarmupRun } from "../../results.ts";
import { type Block, blockWriter } from "../blocks.ts";
import { helpersRecorded, warmupFigures } from "../cpu-figures.ts";
import { figureCells } from "../figures.ts";
import { int } from "../format.ts";
import { TARGET_LABEL } from "../labels.ts";

export function warmupParagraphs(warmups: WarmupRun[] | undefined, flow: FlowRun[]): Block[] {
  const w = blockWriter();
  if (!warmups?.length) return w.blocks;
  const users = [...new Set(warmups.map((x) => x.users))].map(int).join(", ");
  w.p(
    `**As the targets warmed up.** Each freshly started target served ${int(Math.max(...warmups.map((x) => x.index)))} unrecorded warm-up flow(s) of ${users} users before the measured one. ` +
      "The API's CPU per request in each, median of rounds, shows how far each runtime's code had settled (compiled) when it was measured.",
  );
  w.table(
    ["API CPU per request (µs)", "Bun", "Node", "Bun/Node", "Ratio range"],
    warmupFigures(warmups, flow).map((f) => [f.metric, ...figureCells(f)]),
  );
  if (helpersRecorded(warmups, flow)) {
    w.p("Of it, the part of the runtime's helper threads: the compilers' and the garbage collector's, as each runtime settled.");
    w.table(
      ["… on helper threads (µs)", "Bun", "Node", "Bun/Node", "Ratio range"],
      warmupFigures(warmups, flow, (c) => c.api_helper_threads_us_per_request).map((f) => [f.metric, ...figureCells(f)]),
    );
  }
  const failed = warmups.filter((x) => x.failed > 0);
  if (failed.length)
    w.p(
      `Warm-up requests failed: ${failed.map((x) => `${TARGET_LABEL[x.target]} round ${x.round} warm-up ${x.index}: ${int(x.failed)}`).join("; ")}.`,
    );
  return w.blocks;
}
