import type { StepWait } from "../runs/run.ts";
import type { Step } from "../workflows/definition.ts";
import { backoffMs } from "./backoff.ts";
import { StepFailure } from "./step-failure.ts";

/** What a step body returns when it must wait longer than a worker should be held: the run parks. */
export class Park {
  constructor(readonly until: Date | null) {}
}

/** How a step (or one item of it) ended for now. */
export type Attempted =
  | { ok: true; output: unknown }
  | { ok: false; failure: StepFailure }
  | { ok: "stopped" }
  | { ok: "parked"; until: Date | null };

/** A step or item as its attempts see it: the count so far and what it waits for. */
export interface Attempting {
  attempts: number;
  wait?: StepWait;
}

export interface AttemptContext {
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  log(level: "debug", message: string, fields: Record<string, unknown>): void;
  random?: () => number;
  now: () => Date;
  /** A wait longer than this parks instead of sleeping. */
  parkAfterMs: number;
  signal: AbortSignal;
  runId: string;
}

/**
 * Sleeps until `until` if that is soon enough, else parks: the wait is recorded and the run resumes
 * when it is due. Resolves null once the time has come.
 */
export async function waitUntil(until: Date, record: Attempting, ctx: AttemptContext, extra: StepWait = {}): Promise<Park | null> {
  const left = until.getTime() - ctx.now().getTime();
  if (left <= 0) return null;
  if (left > ctx.parkAfterMs) {
    record.wait = { ...extra, until: until.toISOString() };
    return new Park(until);
  }
  await ctx.sleep(left, ctx.signal);
  return null;
}

/**
 * A step's attempts, with exponential backoff between them; a backoff longer than the park
 * threshold parks the run. Resumed from what `record` says: a parked backoff goes on with the next
 * attempt, a body that parked mid-attempt is called again for that same attempt (it finds its wait
 * in `record.wait`).
 */
export async function attempt(step: Step, record: Attempting, body: () => Promise<unknown>, ctx: AttemptContext): Promise<Attempted> {
  const maxAttempts = step.retry?.max_attempts ?? 1;
  let n = Math.max(1, record.attempts);
  try {
    if (record.wait?.retry) {
      const parked = await waitUntil(new Date(record.wait.until!), record, ctx, { retry: true });
      if (parked) return { ok: "parked", until: parked.until };
      delete record.wait;
      n = record.attempts + 1;
    }
    for (; ; n++) {
      record.attempts = n;
      try {
        const out = await body();
        if (out instanceof Park) return { ok: "parked", until: out.until };
        delete record.wait;
        return { ok: true, output: out ?? null };
      } catch (err) {
        if (ctx.signal.aborted) return { ok: "stopped" };
        delete record.wait;
        const failure = err instanceof StepFailure ? err : new StepFailure(err instanceof Error ? err.message : String(err));
        if (!failure.retryable || n >= maxAttempts) return { ok: false, failure };
        const wait = backoffMs(step.retry?.backoff_ms ?? 0, n, ctx.random);
        ctx.log("debug", "step attempt failed; retrying", {
          run_id: ctx.runId,
          step: step.name,
          attempt: n,
          wait_ms: wait,
          error: failure.message,
        });
        const parked = await waitUntil(new Date(ctx.now().getTime() + wait), record, ctx, { retry: true });
        if (parked) return { ok: "parked", until: parked.until };
      }
    }
  } catch (err) {
    // A sleep cut short: the run is stopping.
    if (ctx.signal.aborted) return { ok: "stopped" };
    throw err;
  }
}
