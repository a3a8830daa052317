import type { StepResult } from "../runs/run.ts";
import { renderDeep, type Scope } from "../templates/template.ts";
import { asStep, type HttpConfig, type Step, type StepSpec } from "../workflows/definition.ts";
import { backoffMs } from "./backoff.ts";
import { StepFailure } from "./step-failure.ts";

/** Why a run's signal was aborted; the engine reports it back as the outcome. */
export type StopReason = "cancelled" | "shutdown" | "lease_lost" | "timeout";

/** What an http step records as its output. */
export interface HttpStepOutput {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface EngineDeps {
  http(config: HttpConfig, signal: AbortSignal): Promise<HttpStepOutput>;
  /** Resolves after `ms`, rejects as soon as `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  log(level: "debug" | "info" | "warn" | "error", message: string, fields: Record<string, unknown>): void;
  random?: () => number;
  now?: () => Date;
  /**
   * Called as a step starts; what it returns is called once the step is over, `record` then final
   * (completed, failed or cancelled). Tracing hooks in here; absent, the engine pays nothing.
   */
  stepStarted?(step: Step, record: StepResult): () => void;
}

/**
 * Persists progress after a step with external effects. Resolves false when the run may not go on
 * (it was cancelled or another worker owns it now): the engine then stops without running anything else.
 */
export type Checkpoint = (steps: StepResult[]) => Promise<boolean>;

export interface RunPlan {
  runId: string;
  steps: StepSpec[];
  input: unknown;
  /** Step results recorded by an earlier attempt at this run; completed steps are not re-run. */
  prior: StepResult[];
}

export type RunOutcome =
  | { status: "completed"; output: unknown; steps: StepResult[] }
  | { status: "failed"; error: string; steps: StepResult[] }
  | { status: "stopped"; reason: StopReason | "checkpoint_refused"; steps: StepResult[] };

const iso = (d: Date) => d.toISOString();

async function runStep(step: Step, scope: Scope, deps: EngineDeps, signal: AbortSignal, runId: string): Promise<unknown> {
  switch (step.type) {
    case "http":
      return deps.http(renderDeep(step.config, scope) as HttpConfig, signal);
    case "delay":
      await deps.sleep(step.config.ms, signal);
      return { waited_ms: step.config.ms };
    case "transform":
      return renderDeep(step.config.output, scope);
    case "log": {
      const message = String(renderDeep(step.config.message, scope) ?? "");
      const level = step.config.level ?? "info";
      deps.log(level, message, { run_id: runId, step: step.name });
      return { message, level };
    }
  }
}

/** The first steps of `prior` that match the plan and completed, so a resumed run skips them. */
function resumeFrom(plan: RunPlan): StepResult[] {
  const done: StepResult[] = [];
  for (const [i, spec] of plan.steps.entries()) {
    const p = plan.prior[i];
    if (!p || p.name !== spec.name || p.status !== "completed") break;
    done.push(p);
  }
  return done;
}

/**
 * Executes a run's steps in order with per-step retries (exponential backoff with jitter), and
 * records each step's status, attempts, timings and output or error. Knows nothing of Kafka or SQL:
 * persistence is the checkpoint callback, cancellation and time limits arrive through `signal`.
 */
export async function executeRun(plan: RunPlan, deps: EngineDeps, checkpoint: Checkpoint, signal: AbortSignal): Promise<RunOutcome> {
  const now = deps.now ?? (() => new Date());
  const results: StepResult[] = resumeFrom(plan);
  const scope: Scope = { input: plan.input, steps: {} };
  for (const r of results) scope.steps[r.name] = r.output;
  let lastOutput: unknown = results.at(-1)?.output ?? null;
  const stopped = (): RunOutcome => ({ status: "stopped", reason: (signal.reason as StopReason) ?? "shutdown", steps: results });

  for (let i = results.length; i < plan.steps.length; i++) {
    const step = asStep(plan.steps[i]!);
    if (signal.aborted) return stopped();
    const maxAttempts = step.retry?.max_attempts ?? 1;
    const record: StepResult = { name: step.name, status: "running", attempts: 0, started_at: iso(now()), finished_at: null };
    results[i] = record;
    const stepOver = deps.stepStarted?.(step, record);
    try {
      for (let attempt = 1; ; attempt++) {
        record.attempts = attempt;
        try {
          lastOutput = await runStep(step, scope, deps, signal, plan.runId);
          Object.assign(record, { status: "completed", finished_at: iso(now()), output: lastOutput ?? null });
          break;
        } catch (err) {
          if (signal.aborted) {
            Object.assign(record, { status: "cancelled", finished_at: iso(now()), error: `stopped: ${String(signal.reason)}` });
            return stopped();
          }
          const failure = err instanceof StepFailure ? err : new StepFailure(err instanceof Error ? err.message : String(err));
          if (!failure.retryable || attempt >= maxAttempts) {
            Object.assign(record, { status: "failed", finished_at: iso(now()), error: failure.message });
            if (failure.output !== undefined) record.output = failure.output;
            return {
              status: "failed",
              error: `step "${step.name}" failed after ${attempt} attempt(s): ${failure.message}`,
              steps: results,
            };
          }
          const wait = backoffMs(step.retry?.backoff_ms ?? 0, attempt, deps.random);
          deps.log("debug", "step attempt failed; retrying", {
            run_id: plan.runId,
            step: step.name,
            attempt,
            wait_ms: wait,
            error: failure.message,
          });
          try {
            await deps.sleep(wait, signal);
          } catch {
            Object.assign(record, { status: "cancelled", finished_at: iso(now()), error: `stopped: ${String(signal.reason)}` });
            return stopped();
          }
        }
      }
    } finally {
      stepOver?.();
    }
    scope.steps[step.name] = lastOutput;
    // Recorded before going on only after a step that acts on the world (http), so a resumed run
    // never repeats it; delay, transform and log are cheaper to redo than to write down each time.
    const last = i === plan.steps.length - 1;
    if (!last && step.type === "http" && !(await checkpoint(results)))
      return { status: "stopped", reason: "checkpoint_refused", steps: results };
  }
  return { status: "completed", output: lastOutput ?? null, steps: results };
}

/** A sleep that rejects when the signal aborts, for EngineDeps. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
