import { type Compiled, compileCondition, compileList, evaluateCondition, evaluateList } from "../expressions/index.ts";
import type { ItemResult, StepResult } from "../runs/run.ts";
import { asStep, type Step, type StepSpec } from "../workflows/definition.ts";
import { type AttemptContext, type Attempted, attempt } from "./attempts.ts";
import { buildGraph, type ConditionResult, type Graph, planSteps } from "./planner.ts";
import { StepFailure } from "./step-failure.ts";
import { runStep, type StepDeps, type StepScope } from "./steps.ts";

/** Why a run's signal was aborted; the engine reports it back as the outcome. */
export type StopReason = "cancelled" | "shutdown" | "lease_lost" | "timeout";

export interface EngineDeps extends StepDeps {
  /** Resolves after `ms`, rejects as soon as `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  random?: () => number;
  now?: () => Date;
  /** A wait longer than this parks the run instead of holding the worker; absent, nothing parks. */
  parkAfterMs?: number;
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
  /** Nothing left to do but wait: resume at `wakeAt` (null: only when what it waits for arrives). */
  | { status: "parked"; wakeAt: Date | null; steps: StepResult[] }
  | { status: "stopped"; reason: StopReason | "checkpoint_refused"; steps: StepResult[] };

const iso = (d: Date) => d.toISOString();

/** The most items a `for_each` may yield, and how many run at once unless the step says. */
export const MAX_ITEMS = 1000;
export const DEFAULT_ITEM_CONCURRENCY = 10;

const OVER = new Set(["completed", "failed", "skipped"]);

/** The earlier of two wake-up times, null being "no time" (woken by an event only). */
const earliest = (a: Date | null, b: Date | null) => (a === null ? b : b === null || a <= b ? a : b);

/**
 * What an earlier attempt at this run recorded, by step: a step over is not run again, a waiting
 * one goes on waiting, a `for_each` cut short keeps its finished and waiting items. Steps in
 * flight when it stopped start over.
 */
function resume(plan: RunPlan): { results: (StepResult | undefined)[]; carried: (StepResult | undefined)[] } {
  const prior = new Map(plan.prior.map((r) => [r.name, r]));
  const results: (StepResult | undefined)[] = [];
  const carried: (StepResult | undefined)[] = [];
  plan.steps.forEach((spec, i) => {
    const p = prior.get(spec.name);
    if (!p) return;
    if (OVER.has(p.status)) results[i] = p;
    else if (p.status === "waiting" || (p.items && spec.for_each !== undefined)) carried[i] = p;
  });
  return { results, carried };
}

/** What CEL expressions see of the steps: `steps.<name>.output|status|error`. */
function expressionSteps(graph: Graph, results: readonly (StepResult | undefined)[]): Record<string, unknown> {
  const steps: Record<string, unknown> = {};
  results.forEach((r, i) => {
    if (r && OVER.has(r.status)) steps[graph.steps[i]!.name] = { output: r.output ?? null, status: r.status, error: r.error ?? null };
  });
  return steps;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Executes a run's steps as a graph: a step starts as soon as every step it needs is over (so
 * independent steps run at the same time), `if` may skip it, `for_each` runs it once per item, and
 * a failure fails the run (stopping the steps in flight) unless the step says `on_error: continue`.
 * Each step has its retries (exponential backoff with jitter); each records its status, attempts,
 * timings and output or error. A wait longer than `parkAfterMs` leaves the step `waiting`, and once
 * nothing else can go on the run is `parked` until its earliest wake-up. Knows nothing of Kafka or
 * SQL: persistence is the checkpoint callback, cancellation and time limits arrive through `signal`.
 */
export async function executeRun(plan: RunPlan, deps: EngineDeps, checkpoint: Checkpoint, signal: AbortSignal): Promise<RunOutcome> {
  const now = deps.now ?? (() => new Date());
  const graph = buildGraph(plan.steps);
  const { results, carried } = resume(plan);
  const scope: StepScope = { input: plan.input, steps: {} };
  results.forEach((r, i) => {
    if (r?.status === "completed") scope.steps[graph.steps[i]!.name] = r.output;
  });
  // Stops the steps in flight: the run's own signal, or a step failing the run.
  const stop = new AbortController();
  const follow = () => stop.abort(signal.reason);
  if (signal.aborted) follow();
  else signal.addEventListener("abort", follow, { once: true });
  const ctx: AttemptContext = {
    sleep: deps.sleep,
    log: deps.log,
    random: deps.random,
    now,
    parkAfterMs: deps.parkAfterMs ?? Number.POSITIVE_INFINITY,
    signal: stop.signal,
    runId: plan.runId,
  };
  const recorded = () => results.filter((r): r is StepResult => r !== undefined);

  // Checkpoints go out one at a time; asks made while one is queued share it (it takes the state
  // as of when it starts).
  let saving: Promise<boolean> = Promise.resolve(true);
  let queued: Promise<boolean> | undefined;
  let refused = false;
  let crash: unknown;
  const save = () => {
    queued ??= saving.then(async (ok) => {
      queued = undefined;
      if (!ok || stop.signal.aborted) return ok;
      if (await checkpoint(recorded())) return true;
      refused = true;
      stop.abort("checkpoint_refused");
      return false;
    });
    saving = queued.catch((err) => {
      crash ??= err;
      stop.abort("checkpoint_failed");
      return false;
    });
  };

  let failedStep: number | undefined;
  let failure: string | undefined;
  let wakeAt: Date | null = null;
  let parked = false;
  const fail = (i: number, why: string) => {
    if ((graph.steps[i]!.on_error ?? "fail") !== "fail") return;
    if (failedStep === undefined) [failedStep, failure] = [i, why];
    stop.abort("step_failed");
  };
  /** Runs `use` on the compiled expression; any error comes back prefixed with the field's name. */
  const expression = <T>(compiled: Compiled, what: string, use: (e: Compiled & { ok: true }) => T): T => {
    if (!compiled.ok) throw new Error(`${what}: ${compiled.message}`);
    try {
      return use(compiled);
    } catch (err) {
      throw new Error(`${what}: ${message(err)}`);
    }
  };
  const variables = () => ({ input: plan.input, steps: expressionSteps(graph, results) });
  /** A for_each step's `if` that reads `item` or `index` is a filter of its items, not a gate of the step. */
  const perItem = (spec: StepSpec) => {
    if (spec.if === undefined || spec.for_each === undefined) return false;
    const c = compileCondition(spec.if);
    return c.ok && c.expression.variables.some((v) => v === "item" || v === "index");
  };
  const condition = (i: number): ConditionResult => {
    if (perItem(graph.steps[i]!)) return true;
    try {
      return expression(compileCondition(graph.steps[i]!.if!), "if", (c) => evaluateCondition(c.expression, variables()));
    } catch (err) {
      return { error: message(err) };
    }
  };

  /** Every other step is over: what this one records is saved by the run's terminal write. */
  const lastToFinish = (i: number) => graph.steps.every((_, j) => j === i || OVER.has(results[j]?.status ?? "pending"));

  const settle = (i: number, record: StepResult, a: Attempted) => {
    const step = graph.steps[i]!;
    if (a.ok === true) {
      Object.assign(record, { status: "completed", finished_at: iso(now()), output: a.output });
      scope.steps[step.name] = a.output;
    } else if (a.ok === "parked") {
      record.status = "waiting";
      wakeAt = parked ? earliest(wakeAt, a.until) : a.until;
      parked = true;
    } else if (a.ok === "stopped") {
      Object.assign(record, { status: "cancelled", finished_at: iso(now()), error: `stopped: ${String(stop.signal.reason)}` });
    } else {
      Object.assign(record, { status: "failed", finished_at: iso(now()), error: a.failure.message });
      if (a.failure.output !== undefined) record.output = a.failure.output;
      fail(i, `step "${step.name}" failed after ${record.attempts} attempt(s): ${a.failure.message}`);
    }
  };

  /** A `for_each` step: its items, at most `concurrency` at a time; its output, theirs in item order. */
  const fanOut = async (i: number, step: Step, record: StepResult): Promise<Attempted> => {
    const spec = graph.steps[i]!;
    let list: unknown[];
    try {
      list = expression(compileList(spec.for_each!), "for_each", (c) => evaluateList(c.expression, variables(), MAX_ITEMS));
    } catch (err) {
      return { ok: false, failure: new StepFailure(message(err), false) };
    }
    const prior = record.items;
    const items: ItemResult[] = list.map((_, k) => {
      const p = prior?.[k];
      return p && (p.status === "completed" || p.status === "waiting") ? p : { status: "pending", attempts: 0 };
    });
    record.items = items;
    const itemStop = new AbortController();
    const onStop = () => itemStop.abort(stop.signal.reason);
    stop.signal.addEventListener("abort", onStop, { once: true });
    const itemCtx: AttemptContext = { ...ctx, signal: itemStop.signal };
    const filter = perItem(spec) ? spec.if! : undefined;
    let failed: { k: number; failure: StepFailure } | undefined;
    let until: Date | null | undefined;
    let next = 0;
    const lane = async () => {
      while (next < items.length && !itemStop.signal.aborted) {
        const k = next++;
        const item = items[k]!;
        if (item.status === "completed") continue;
        if (filter !== undefined) {
          let keep: boolean;
          try {
            keep = expression(compileCondition(filter), "if", (c) =>
              evaluateCondition(c.expression, { ...variables(), item: list[k], index: k }),
            );
          } catch (err) {
            Object.assign(item, { status: "failed", error: message(err) });
            failed ??= { k, failure: new StepFailure(message(err), false) };
            itemStop.abort("item_failed");
            continue;
          }
          if (!keep) {
            Object.assign(item, { status: "skipped", output: null });
            continue;
          }
        }
        item.status = "running";
        const itemScope: StepScope = { ...scope, item: list[k], index: k };
        const a = await attempt(step, item, () => runStep(step, itemScope, item, deps, itemCtx), itemCtx);
        if (a.ok === true) {
          Object.assign(item, { status: "completed", output: a.output });
          if (step.type === "http") save();
        } else if (a.ok === "parked") {
          item.status = "waiting";
          until = until === undefined ? a.until : earliest(until, a.until);
        } else if (a.ok === "stopped") item.status = "cancelled";
        else {
          Object.assign(item, { status: "failed", error: a.failure.message });
          failed ??= { k, failure: a.failure };
          itemStop.abort("item_failed");
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(spec.concurrency ?? DEFAULT_ITEM_CONCURRENCY, items.length) }, lane));
    } finally {
      stop.signal.removeEventListener("abort", onStop);
    }
    record.attempts = items.reduce((m, it) => Math.max(m, it.attempts), 0);
    if (failed) return { ok: false, failure: new StepFailure(`item ${failed.k}: ${failed.failure.message}`, false) };
    if (stop.signal.aborted) return { ok: "stopped" };
    if (until !== undefined) return { ok: "parked", until };
    delete record.items;
    return { ok: true, output: items.map((it) => it.output ?? null) };
  };

  const execute = async (i: number, record: StepResult): Promise<void> => {
    const step = asStep(graph.steps[i]!);
    if (graph.steps[i]!.for_each === undefined)
      settle(i, record, await attempt(step, record, () => runStep(step, scope, record, deps, ctx), ctx));
    else settle(i, record, await fanOut(i, step, record));
    if (record.status === "completed" && step.type === "http" && !lastToFinish(i)) save();
  };

  const inFlight = new Map<number, Promise<void>>();
  const start = (i: number) => {
    const before = carried[i];
    const record: StepResult = before
      ? { ...before, status: "running" }
      : { name: graph.steps[i]!.name, status: "running", attempts: 0, started_at: iso(now()), finished_at: null };
    results[i] = record;
    const over = deps.stepStarted?.(asStep(graph.steps[i]!), record);
    inFlight.set(
      i,
      execute(i, record)
        .catch((err) => {
          crash ??= err;
          stop.abort("crashed");
        })
        .finally(() => {
          over?.();
          inFlight.delete(i);
        }),
    );
  };

  try {
    for (;;) {
      if (!stop.signal.aborted) {
        const next = planSteps(graph, results, condition);
        const at = iso(now());
        for (const { step: i } of next.skipped)
          results[i] = { name: graph.steps[i]!.name, status: "skipped", attempts: 0, started_at: null, finished_at: at };
        for (const { step: i, error } of next.broken) {
          results[i] = { name: graph.steps[i]!.name, status: "failed", attempts: 0, started_at: null, finished_at: at, error };
          fail(i, `step "${graph.steps[i]!.name}" failed: ${error}`);
        }
        if (next.outcome === "failed" && failedStep === undefined) {
          // Recorded as failed by an earlier attempt at this run.
          const i = next.failedStep!;
          fail(i, `step "${graph.steps[i]!.name}" failed: ${results[i]?.error ?? "unknown error"}`);
        }
        if (!stop.signal.aborted) for (const i of next.ready) start(i);
      }
      if (inFlight.size === 0) break;
      await Promise.race(inFlight.values());
    }
    await saving;
  } finally {
    signal.removeEventListener("abort", follow);
  }
  if (crash !== undefined) throw crash;
  const steps = recorded();
  if (signal.aborted) return { status: "stopped", reason: (signal.reason as StopReason) ?? "shutdown", steps };
  if (refused) return { status: "stopped", reason: "checkpoint_refused", steps };
  if (failedStep !== undefined) return { status: "failed", error: failure!, steps };
  if (parked) return { status: "parked", wakeAt, steps };
  const output = graph.sequential
    ? (results.at(-1)?.output ?? null)
    : Object.fromEntries(graph.leaves.map((i) => [graph.steps[i]!.name, results[i]?.output ?? null]));
  return { status: "completed", output, steps };
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
