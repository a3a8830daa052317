/** This run's headline figures against its scenario's baseline, so that a regression shows at once. */
import { againstBaseline, setupDifferences } from "../../baseline/against.ts";
import { extractBaseline } from "../../baseline/baseline.ts";
import { baselineValue, changeText, figureName } from "../../baseline/format.ts";
import { type Block, blockWriter } from "../blocks.ts";
import type { ReportContext } from "../context.ts";

export function baselineSection({ r }: ReportContext): Block[] {
  const w = blockWriter();
  w.h2("Against the baseline", "baseline");
  const file = `\`bench/baselines/${r.scenario}.json\``;
  const base = r.baseline;
  if (!base) {
    w.p(`No baseline of the ${r.scenario} scenario (${file}) was recorded with these results, so there is nothing to compare with.`);
    return w.blocks;
  }
  const now = extractBaseline(r);
  const rows = againstBaseline(now, base);
  if (rows.length === 0) {
    w.p(`No figure of these results compares with the baseline of the ${r.scenario} scenario (${file}, the run of ${base.date}).`);
    return w.blocks;
  }
  w.p(
    `This run's headline figures against the baseline of the ${r.scenario} scenario (${file}): the run of ${base.date}${base.commit ? ` on \`${base.commit}\`` : ""}. ` +
      "**Change** is this run's figure over the baseline's, in percent; lower throughput or Bun/Node, and higher latency, failures or CPU, are **worse**. " +
      'Runs of the same code scatter by several percent (bench/FINDINGS.md, "Against the baseline"), so a small change either way says little.',
  );
  const diffs = setupDifferences(now, base);
  if (diffs.length) w.p(`**Not like for like:** ${diffs.join("; ")}.`);
  w.table(
    ["Figure", "This run", "Baseline", "Change", "Direction"],
    rows.map((x) => [
      figureName(x),
      baselineValue(x.now, x.unit),
      baselineValue(x.base, x.unit),
      changeText(x),
      x.direction === "worse" ? "**worse**" : x.direction,
    ]),
    ["l", "r", "r", "r", "l"],
  );
  return w.blocks;
}
