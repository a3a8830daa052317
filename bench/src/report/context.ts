/** What every section of the report reads: the results, made whole, and what several sections derive from them. */
import type { BenchResults, FlowRun, Target } from "../results.ts";
import { byRound, type Figure, headlineFigures } from "./figures.ts";
import { TARGETS } from "./labels.ts";

export interface ReportContext {
  r: BenchResults;
  /** A target's measured flows, in the order of their rounds. */
  runsOf: (t: Target) => FlowRun[];
  /** The targets with at least one measured flow. */
  present: Target[];
  /** The numbers of users the flows ran with. */
  users: number[];
  /** The most rounds of one target. */
  rounds: number;
  both: boolean;
  /** The headline figures: the CPU section's arithmetic takes the flow's ratio from them. */
  figs: Figure[];
}

export function reportContext(results: BenchResults): ReportContext {
  // Tolerate a results.json written by an older runner: missing lists and maps are empty.
  const r: BenchResults = {
    ...results,
    flow: results.flow ?? [],
    oha: results.oha ?? [],
    audit: results.audit ?? [],
    comparisons: results.comparisons ?? [],
    targets: results.targets ?? [],
    reference: results.reference ?? [],
    notes: results.notes ?? [],
    versions: results.versions ?? {},
    config: results.config ?? {},
  };
  const runsOf = (t: Target) => byRound(r.flow.filter((f) => f.target === t));
  const present = TARGETS.filter((t) => runsOf(t).length > 0);
  return {
    r,
    runsOf,
    present,
    users: [...new Set(r.flow.map((f) => f.users))],
    rounds: Math.max(0, ...present.map((t) => runsOf(t).length)),
    both: present.length === 2,
    figs: headlineFigures(r.flow),
  };
}
