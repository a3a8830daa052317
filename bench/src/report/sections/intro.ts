/** The report's title and what was measured, where, with how many replicas. */
import type { BenchResults } from "../../results.ts";
import { type Block, blockWriter } from "../blocks.ts";
import type { ReportContext } from "../context.ts";
import { int } from "../format.ts";
import { TARGET_LABEL } from "../labels.ts";

/**
 * The API replicas each target ran with: the flow's ratio depends on it (bench/FINDINGS.md, "One
 * API replica per target"), so the report says it up front.
 */
function replicasPhrase(config: BenchResults["config"], both: boolean): string {
  const n = config.api_replicas;
  return typeof n === "number" ? `, ${int(n)} API replica${n === 1 ? "" : "s"}${both ? " per target" : ""}` : "";
}

export function introSection({ r, present, users, rounds, both }: ReportContext): Block[] {
  const w = blockWriter();
  w.h1(`Benchmark report: ${r.scenario}`);
  w.p(
    `Measured from ${r.started_at} to ${r.finished_at} on one machine with ${int(r.machine.cores)} cores and ${int(r.machine.memory_gib)} GiB of memory (${r.machine.cpu_model}). ` +
      (r.flow.length
        ? `${present.map((t) => TARGET_LABEL[t]).join(" and ")}, ${int(rounds)} round${rounds === 1 ? "" : "s"}${both ? " each" : ""}${replicasPhrase(r.config, both)}, ${users.map(int).join(", ")} concurrent users running the 7-step flow.`
        : "No flow runs are in these results."),
  );
  return w.blocks;
}
