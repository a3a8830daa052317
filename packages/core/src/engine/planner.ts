import type { StepStatus } from "../runs/run.ts";
import type { StepSpec } from "../workflows/definition.ts";

/**
 * A definition as the planner reads it: each step's needs resolved to indexes (absent: the previous
 * step), and its leaves. The list is a topological order (a step may only need earlier ones), so
 * one pass in list order sees every need before the steps that need it.
 */
export interface Graph {
  readonly steps: readonly StepSpec[];
  readonly needs: readonly (readonly number[])[];
  /** Steps no other step needs: their outputs make the run's output. */
  readonly leaves: readonly number[];
  /** No step declares `needs` (a v1 list): the run's output is its last step's, as in v1. */
  readonly sequential: boolean;
}

export function buildGraph(steps: readonly StepSpec[]): Graph {
  const index = new Map(steps.map((s, i) => [s.name, i]));
  const needs = steps.map((s, i) =>
    s.needs === undefined
      ? i === 0
        ? []
        : [i - 1]
      : s.needs.map((n) => index.get(n)).filter((j): j is number => j !== undefined && j < i),
  );
  const needed = new Set(needs.flat());
  return {
    steps,
    needs,
    leaves: steps.map((_, i) => i).filter((i) => !needed.has(i)),
    sequential: steps.every((s) => s.needs === undefined),
  };
}

/** A step's state as the planner needs it: absent means not started. */
export interface PlannedState {
  status: StepStatus;
}

/** `true` runs the step, `false` skips it; an error fails it (a condition that cannot be evaluated). */
export type ConditionResult = boolean | { error: string };

export interface Plan {
  /** Steps to start now: their needs are over and their condition holds. */
  ready: number[];
  /** Steps to record as skipped now, and why. */
  skipped: { step: number; reason: "condition" | "needs_skipped" }[];
  /** Steps whose condition could not be evaluated: to record as failed. */
  broken: { step: number; error: string }[];
  /**
   * `running`: steps are ready or in flight; `failed`: a step failed and its on_error is `fail`
   * (the run fails; steps in flight are to be stopped); `completed`: every step is over.
   */
  outcome: "running" | "completed" | "failed";
  /** With `failed`: the first step (in list order) that failed the run. */
  failedStep?: number;
}

/** A cancelled step is not over: a run is only cancelled while it stops, and a resumed run starts it again. */
const OVER: ReadonlySet<StepStatus> = new Set(["completed", "failed", "skipped"]);

/**
 * Which steps start, which are skipped, and whether the run is over, given the state of every step.
 * Pure: the condition of a step is asked for only once its needs are over, and only for a step
 * that has not started. A step whose needs were all skipped is skipped without asking.
 */
export function planSteps(graph: Graph, states: readonly (PlannedState | undefined)[], condition: (step: number) => ConditionResult): Plan {
  const plan: Plan = { ready: [], skipped: [], broken: [], outcome: "completed" };
  // What the run will know once this plan is applied: skips cascade down in the same pass.
  const status: (StepStatus | undefined)[] = states.map((s) => s?.status);
  let inFlight = false;
  for (let i = 0; i < graph.steps.length; i++) {
    const s = status[i];
    if (s === "failed" && (graph.steps[i]!.on_error ?? "fail") === "fail") {
      plan.failedStep ??= i;
      continue;
    }
    if (s !== undefined) {
      if (!OVER.has(s)) inFlight = true;
      continue;
    }
    const needs = graph.needs[i]!;
    if (!needs.every((j) => OVER.has(status[j] as StepStatus))) {
      inFlight = true;
      continue;
    }
    if (needs.length > 0 && needs.every((j) => status[j] === "skipped")) {
      plan.skipped.push({ step: i, reason: "needs_skipped" });
      status[i] = "skipped";
      continue;
    }
    const go = graph.steps[i]!.if === undefined ? true : condition(i);
    if (go === true) {
      plan.ready.push(i);
      status[i] = "running";
      inFlight = true;
    } else if (go === false) {
      plan.skipped.push({ step: i, reason: "condition" });
      status[i] = "skipped";
    } else {
      plan.broken.push({ step: i, error: go.error });
      status[i] = "failed";
      if ((graph.steps[i]!.on_error ?? "fail") === "fail") plan.failedStep ??= i;
    }
  }
  if (plan.failedStep !== undefined) {
    // The run fails: nothing new starts, but a broken step is still recorded as failed.
    plan.outcome = "failed";
    plan.ready = [];
    plan.skipped = [];
  } else if (inFlight) plan.outcome = "running";
  return plan;
}
