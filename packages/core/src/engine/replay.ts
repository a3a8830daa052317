import type { FieldError } from "../errors.ts";
import type { StepResult, StepStatus } from "../runs/run.ts";
import type { StepSpec } from "../workflows/definition.ts";
import { buildGraph } from "./planner.ts";

/** What an original step must have ended as for a replay to keep its result instead of running it again. */
const REUSABLE: ReadonlySet<StepStatus> = new Set(["completed", "skipped"]);

export interface ReplayPlan {
  /** The new run's steps before it starts: the reused results, marked `reused: true`. */
  steps: StepResult[];
  /** The names of the steps the replay executes, in definition order. */
  executed: string[];
}

/**
 * Which steps of a replay keep the original's result and which run again, given the original's
 * pinned definition and step results. The start is `fromStep`, or by default every step that did
 * not complete (failed, cancelled, never started), or, when every step completed, the whole run.
 * A step runs again when it is a start, when the original has no result of it to keep (it did not
 * complete or was not skipped), or when it needs a step that runs again; any other step keeps the
 * original's result. So a reused step never depends on a step that runs again, and the input given
 * to a replay changes nothing in that choice. A `fromStep` that the definition does not have is
 * an error at `/from_step`.
 */
export function planReplay(definition: readonly StepSpec[], original: readonly StepResult[], fromStep?: string): ReplayPlan | FieldError {
  const graph = buildGraph(definition);
  const prior = new Map(original.map((r) => [r.name, r]));
  const reusable = definition.map((s) => REUSABLE.has(prior.get(s.name)?.status ?? "pending"));
  let start: boolean[];
  if (fromStep !== undefined) {
    if (!definition.some((s) => s.name === fromStep))
      return { path: "/from_step", message: `from_step ${JSON.stringify(fromStep)} is not a step of the run's definition` };
    start = definition.map((s) => s.name === fromStep);
  } else {
    start = reusable.map((r) => !r);
    // Nothing failed: a replay that reran nothing would be a copy, so it reruns the whole run.
    if (!start.includes(true)) start = start.map(() => true);
  }
  // The list is a topological order: a step's needs are decided before it.
  const runs: boolean[] = [];
  definition.forEach((_, i) => {
    runs[i] = start[i]! || !reusable[i] || graph.needs[i]!.some((j) => runs[j]);
  });
  return {
    steps: definition.flatMap((s, i) => (runs[i] ? [] : [{ ...prior.get(s.name)!, reused: true }])),
    executed: definition.filter((_, i) => runs[i]).map((s) => s.name),
  };
}

export const isReplayPlan = (p: ReplayPlan | FieldError): p is ReplayPlan => "steps" in p;
