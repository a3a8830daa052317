/** The product's targets, each exactly as the runner checked it. */
import { type Block, blockWriter } from "../blocks.ts";
import type { ReportContext } from "../context.ts";

export function targetsSection({ r }: ReportContext): Block[] {
  const w = blockWriter();
  w.h2("Targets", "targets");
  if (r.targets.length === 0) {
    w.p("No targets were checked in this run.");
    return w.blocks;
  }
  const met = r.targets.filter((t) => t.met).length;
  w.p(`**${met} of ${r.targets.length}** targets met. Each line is exactly as the benchmark runner checked it.`);
  w.table(
    ["Result", "Target", "Threshold", "Measured"],
    r.targets.map((t) => [t.met ? "✅ met" : "❌ not met", t.name, t.threshold, t.value]),
    ["l", "l", "l", "l"],
  );
  return w.blocks;
}
