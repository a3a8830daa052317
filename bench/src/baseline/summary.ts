/** The lines the bench prints at the end of a run: each headline figure against the scenario's baseline. */
import { againstBaseline, setupDifferences } from "./against.ts";
import type { Baseline } from "./baseline.ts";
import type { BaselineRead } from "./file.ts";
import { baselineValue, changeText, figureName } from "./format.ts";

const TAG = "[baseline]";

/** `now` is this run's figures (extractBaseline of its results); a missing or unusable baseline is one line. */
export function baselineSummary(now: Baseline, read: BaselineRead): string[] {
  if (!read.ok) return [`${TAG} none used for scenario ${now.scenario} (${read.path}: ${read.reason}); nothing to compare with`];
  const base = read.baseline;
  const rows = againstBaseline(now, base);
  const run = `the run of ${base.date}${base.commit ? ` on ${base.commit}` : ""}`;
  if (rows.length === 0) return [`${TAG} no figure of this run compares with ${read.path}, ${run}`];
  const lines = [`${TAG} against ${read.path}, ${run}:`];
  const diffs = setupDifferences(now, base);
  if (diffs.length) lines.push(`${TAG} not like for like: ${diffs.join("; ")}`);
  // Upper case so that a regression stands out in the bench's log.
  const cells = rows.map((r): [string, string, string, string, string] => [
    figureName(r),
    baselineValue(r.now, r.unit),
    baselineValue(r.base, r.unit),
    changeText(r),
    r.direction === "worse" ? "WORSE" : r.direction,
  ]);
  const width = (i: number) => Math.max(...cells.map((c) => c[i]!.length));
  const [w0, w1, w2, w3] = [width(0), width(1), width(2), width(3)];
  for (const [name, value, was, change, direction] of cells)
    lines.push(`${TAG} ${name.padEnd(w0)}  ${value.padStart(w1)}  baseline ${was.padStart(w2)}  ${change.padStart(w3)}  ${direction}`);
  return lines;
}
