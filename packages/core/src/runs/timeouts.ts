/** A run's time limits: the server's per execution (RUN_TIMEOUT_MS) and its workflow's `timeout_ms`. */
import type { StepResult } from "./run.ts";

export interface ExecutionLimit {
  /** How long this execution may last (0: the workflow's timeout is already over). */
  ms: number;
  /** The workflow's timeout is the nearer one: the message names it. */
  byWorkflow: boolean;
}

/**
 * How long one execution of a run may last: RUN_TIMEOUT_MS, or what is left of its workflow's
 * timeout (counted from the run's start, parked time included) when that is less.
 */
export function executionLimit(perExecutionMs: number, workflowLeftMs: number | null): ExecutionLimit {
  if (workflowLeftMs === null || workflowLeftMs >= perExecutionMs) return { ms: perExecutionMs, byWorkflow: false };
  return { ms: Math.max(0, workflowLeftMs), byWorkflow: true };
}

/** The error of a run failed by one of its time limits. */
export const timeoutError = (limit: ExecutionLimit, perExecutionMs: number, workflowTimeoutMs: number | null): string =>
  limit.byWorkflow
    ? `run exceeded its workflow's timeout_ms of ${workflowTimeoutMs} ms`
    : `run exceeded its time limit of ${perExecutionMs} ms`;

const UNFINISHED = new Set(["pending", "running", "waiting"]);

/**
 * The steps of a run that is stopped without executing (its timeout was over when a worker took
 * it, e.g. woken from a park to be failed): those not over, and their items not over, are
 * recorded cancelled with the reason, as the engine records the steps a stop interrupts.
 */
export function stopUnfinished(steps: readonly StepResult[], reason: string, at: string): StepResult[] {
  return steps.map((s) => {
    if (!UNFINISHED.has(s.status)) return s;
    const { wait: _wait, ...rest } = s;
    return {
      ...rest,
      status: "cancelled",
      finished_at: at,
      error: `stopped: ${reason}`,
      ...(s.items ? { items: s.items.map((it) => (UNFINISHED.has(it.status) ? { ...it, status: "cancelled" as const } : it)) } : {}),
    };
  });
}
