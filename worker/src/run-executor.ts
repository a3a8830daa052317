import { abortableSleep, type EngineDeps, executeRun, type SecretValues } from "@wf/core/engine";
import { executionLimit, type RunRow, stopUnfinished, timeoutError, toRun } from "@wf/core/runs";
import { type Cache, cacheKeys } from "@wf/platform/cache";
import type { Config } from "@wf/platform/config";
import { EgressPolicy, runHttpStep } from "@wf/platform/egress";
import type { Span, Tracing } from "@wf/platform/observability";
import { errorFields, type Logger, traceSteps } from "@wf/platform/observability";
import { cacheRun, type ExecutionStore, type RunWaits } from "@wf/services/execution";
import type { RunWatch } from "./run-watch.ts";

/** What became of one message: `done` may be committed; `handed_back` must be delivered again. */
export type Handled = "done" | "handed_back";

export class UnknownRun extends Error {}

/**
 * Executes one run from its message: claim it (compare-and-set with a lease), run its steps with
 * the engine, write its one terminal state, and keep the Redis copy from going stale: dropped
 * while the run changes, the terminal state written through (readers of a finished run then need
 * no query; a terminal state cannot go stale).
 */
export class RunExecutor {
  readonly stats = { completed: 0, failed: 0, cancelled: 0, handedBack: 0, skipped: 0, parked: 0 };
  private readonly engine: EngineDeps;

  constructor(
    private readonly store: ExecutionStore,
    private readonly cache: Cache,
    private readonly watch: RunWatch,
    private readonly log: Logger,
    private readonly config: Config,
    private readonly tracing?: Tracing,
    /** Told each executed step's type, final status and duration (the step metric). */
    observeStep: (type: string, status: string, seconds: number) => void = () => {},
    /** Signals and child runs; without them, such steps fail. */
    private readonly waits?: RunWaits,
    /** Secrets' values for http steps; without them, a step that reads one fails. */
    secrets?: SecretValues,
  ) {
    const policy = new EgressPolicy(config.egressAllow);
    const limits = { defaultTimeoutMs: config.httpStepTimeoutMs, maxResponseBytes: config.httpStepMaxResponseBytes };
    this.engine = {
      http: (c, signal) => runHttpStep(c, policy, limits, signal),
      secrets,
      sleep: abortableSleep,
      parkAfterMs: config.parkAfterMs,
      log: (level, message, fields) => log[level](message, fields),
      stepStarted: (step, record) => {
        const t0 = performance.now();
        return () => observeStep(step.type, record.status, (performance.now() - t0) / 1000);
      },
    };
  }

  /** The engine for one run: its signals and children; with tracing, each step also gets a span under the message's. */
  private engineFor(runId: string, span?: Span): EngineDeps {
    const engine = { ...this.engine, waits: this.waits?.forRun(runId) };
    if (!this.tracing || !span) return engine;
    const timed = this.engine.stepStarted!;
    const traced = traceSteps(this.tracing, span, runId);
    return {
      ...engine,
      stepStarted: (step, record) => {
        const [a, b] = [timed(step, record), traced(step, record)];
        return () => {
          a();
          b();
        };
      },
    };
  }

  private forget(id: string): Promise<void> {
    return this.cache.del(cacheKeys.run(id));
  }

  /**
   * `span`: the message's span, parent of one span per step executed (with tracing on). The run
   * executed may be another than the message's: a message about a run of a limited workflow
   * starts the oldest run of its key that may start (see ExecutionStore.claim).
   */
  async execute(messageRunId: string, shutdown: AbortSignal, span?: Span): Promise<Handled> {
    let claim = await this.store.claim(messageRunId);
    if ("why" in claim && claim.why === "leased" && claim.expiresInMs <= this.config.runLeaseMs) {
      // Most often the previous owner died and this is its redelivered message: wait out its lease
      // once rather than leave the run to the reconciler. A live owner renews, and keeps it.
      try {
        await abortableSleep(claim.expiresInMs + 50, shutdown);
      } catch {
        return "handed_back";
      }
      claim = await this.store.claim(messageRunId);
    }
    if ("why" in claim) {
      if (claim.why === "missing") throw new UnknownRun(`run ${messageRunId} does not exist`);
      this.stats.skipped++;
      return "done";
    }
    const runId = claim.id;
    // The cached copy says pending: drop it so readers see the run running.
    await this.forget(runId);
    let terminal: RunRow | undefined;

    const ac = this.watch.add(runId);
    const onShutdown = () => ac.abort("shutdown");
    shutdown.addEventListener("abort", onShutdown, { once: true });
    // A shutdown while the claim was in flight has fired its event already: the run is handed back.
    if (shutdown.aborted) onShutdown();
    const limit = executionLimit(this.config.runTimeoutMs, claim.timeout_left_ms);
    const timedOut = timeoutError(limit, this.config.runTimeoutMs, claim.timeout_ms);
    const timeout = setTimeout(() => ac.abort("timeout"), limit.ms);
    try {
      if (limit.ms === 0) {
        // Its workflow's timeout is over (a parked run woken at its deadline, or one whose worker
        // died): failed without executing anything.
        const steps = stopUnfinished(claim.steps, "timeout", new Date().toISOString());
        terminal = await this.store.finish(runId, "failed", steps, null, timedOut);
        if (terminal) this.stats.failed++;
        return "done";
      }
      const outcome = await executeRun(
        { runId, steps: claim.definition, input: claim.input, prior: claim.steps },
        this.engineFor(runId, span),
        async (steps) => {
          const ok = await this.store.checkpoint(runId, steps);
          await this.forget(runId);
          return ok;
        },
        ac.signal,
      );
      if (outcome.status === "completed" || outcome.status === "failed") {
        const output = outcome.status === "completed" ? outcome.output : null;
        const error = outcome.status === "failed" ? outcome.error : null;
        terminal = await this.store.finish(runId, outcome.status, outcome.steps, output, error);
        if (terminal) this.stats[outcome.status]++;
        return "done";
      }
      if (outcome.status === "parked") {
        if (await this.store.park(runId, outcome.steps, outcome.wakeAt)) this.stats.parked++;
        return "done";
      }
      switch (outcome.reason) {
        case "shutdown":
          await this.store.release(runId, outcome.steps);
          this.stats.handedBack++;
          return "handed_back";
        case "timeout":
          terminal = await this.store.finish(runId, "failed", outcome.steps, null, timedOut);
          if (terminal) this.stats.failed++;
          return "done";
        default:
          // Cancelled, or no longer ours: keep what ran on a cancelled run, leave any other alone.
          await this.store.recordCancelled(runId, outcome.steps);
          this.stats.cancelled++;
          return "done";
      }
    } catch (err) {
      // A database failure mid-run: the lease lapses and the run is resumed by whoever claims it.
      this.log.error("run execution failed", { run_id: runId, ...errorFields(err) });
      throw err;
    } finally {
      clearTimeout(timeout);
      shutdown.removeEventListener("abort", onShutdown);
      this.watch.remove(runId);
      if (terminal) await cacheRun(this.cache, toRun(terminal), this.config.runCacheTtlS);
      else await this.forget(runId);
    }
  }
}
