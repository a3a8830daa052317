/** Failed requests by class, per target, summed over the rounds. */
import type { Target } from "../../results.ts";
import { type Block, blockWriter } from "../blocks.ts";
import type { ReportContext } from "../context.ts";
import { int, pct } from "../format.ts";
import { errorLabel, TARGET_LABEL } from "../labels.ts";

export function errorsSection({ r, runsOf, present, both }: ReportContext): Block[] {
  const w = blockWriter();
  if (!r.flow.length) return w.blocks;
  w.h2("Errors", "errors");
  const sumErrors = (t: Target) => {
    const acc: Record<string, number> = {};
    for (const f of runsOf(t)) for (const [k, v] of Object.entries(f.errors)) acc[k] = (acc[k] ?? 0) + (v ?? 0);
    return acc;
  };
  const errs = Object.fromEntries(present.map((t) => [t, sumErrors(t)])) as Record<Target, Record<string, number>>;
  const requests = Object.fromEntries(present.map((t) => [t, runsOf(t).reduce((a, f) => a + f.requests, 0)])) as Record<Target, number>;
  const classes = [...new Set(present.flatMap((t) => Object.keys(errs[t])))].sort();
  if (classes.length === 0) {
    w.p(`No request failed, for ${both ? "either target" : "this target"}, in any round.`);
    return w.blocks;
  }
  w.p(
    "Failed requests by class, summed over all rounds; the percentage is of all that target's requests. A user whose step fails stops there, so later steps were never sent.",
  );
  const cell = (t: Target, c: string) => {
    const v = errs[t][c] ?? 0;
    return v ? `${int(v)} (${pct((100 * v) / (requests[t] || 1))})` : "0";
  };
  const total = (t: Target) => Object.values(errs[t]).reduce((a, b) => a + b, 0);
  w.table(
    ["Error class", ...present.map((t) => TARGET_LABEL[t])],
    [
      ...classes.map((c) => [errorLabel(c), ...present.map((t) => cell(t, c))]),
      ["**all errors**", ...present.map((t) => `**${int(total(t))} (${pct((100 * total(t)) / (requests[t] || 1))})**`)],
    ],
  );
  return w.blocks;
}
