import type { Dependency } from "@wf/core/errors";
import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen, IsolatedCircuitError } from "cockatiel";
import type { Logger } from "../observability/logger.ts";
import { Deadline } from "./deadline.ts";

export type BreakerState = "closed" | "open" | "half_open";

export interface BreakerOptions {
  /** Consecutive failures that open the circuit. */
  failures: number;
  /** How long it stays open before one call is let through to probe the dependency. */
  openMs: number;
  /** A call slower than this counts as a failure (0: no bound). */
  timeoutMs?: number;
}

/** Thrown instead of calling a dependency whose circuit is open. */
export class CircuitOpen extends Error {
  constructor(
    readonly dependency: Dependency,
    readonly retryAfterMs: number,
  ) {
    super(`${dependency} is failing; not called while its circuit is open`);
    this.name = "CircuitOpen";
  }
}

/** Thrown when a call outlived the breaker's timeout (it still runs, unobserved). */
export class CallTimedOut extends Error {
  constructor(
    readonly dependency: Dependency,
    readonly afterMs: number,
  ) {
    super(`${dependency} did not answer within ${afterMs} ms`);
    this.name = "CallTimedOut";
  }
}

const STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: "closed",
  [CircuitState.Open]: "open",
  [CircuitState.HalfOpen]: "half_open",
  [CircuitState.Isolated]: "open",
};

/**
 * A circuit breaker around one dependency (cockatiel's, with our vocabulary): after `failures`
 * outages in a row the dependency is not called for `openMs`, so requests fail fast instead of
 * piling up behind timeouts; then a single probe decides between closing and staying open.
 * Only errors `isOutage` recognises count: a unique violation is the caller's business, not a
 * sign that PostgreSQL is down.
 */
export class Breaker {
  readonly stats = { rejected: 0, opened: 0 };
  /** Calls started and not yet settled. */
  inFlight = 0;
  private readonly circuit;
  private readonly deadline: Deadline | undefined;
  private openedAt = 0;

  constructor(
    readonly dependency: Dependency,
    private readonly options: BreakerOptions,
    isOutage: (err: unknown) => boolean,
    log?: Logger,
  ) {
    this.circuit = circuitBreaker(
      handleWhen((err) => err instanceof CallTimedOut || isOutage(err)),
      { halfOpenAfter: options.openMs, breaker: new ConsecutiveBreaker(options.failures) },
    );
    this.circuit.onBreak(() => {
      this.openedAt = Date.now();
      this.stats.opened++;
      log?.warn("circuit opened", { dependency, open_ms: options.openMs });
    });
    this.circuit.onReset(() => log?.info("circuit closed", { dependency }));
    const bound = options.timeoutMs ?? 0;
    this.deadline = bound > 0 ? new Deadline(bound, () => new CallTimedOut(dependency, bound)) : undefined;
  }

  get state(): BreakerState {
    return STATES[this.circuit.state];
  }

  /**
   * Whether a call now would be refused. The circuit only turns half-open when a call arrives
   * after `openMs`, so callers that skip calls while it is open must ask this, not `state`.
   */
  get rejecting(): boolean {
    return this.state === "open" && this.retryAfterMs > 0;
  }

  /** Milliseconds until the next probe may be let through (0 when not open). */
  get retryAfterMs(): number {
    return this.state === "closed" ? 0 : Math.max(0, this.openedAt + this.options.openMs - Date.now());
  }

  /** Runs `fn` unless the circuit is open; throws CircuitOpen or CallTimedOut instead of waiting. */
  async run<T>(fn: () => PromiseLike<T>): Promise<T> {
    this.inFlight++;
    try {
      const deadline = this.deadline;
      return await this.circuit.execute(deadline ? () => deadline.within(fn()) : fn);
    } catch (err) {
      if (err instanceof BrokenCircuitError || err instanceof IsolatedCircuitError) {
        this.stats.rejected++;
        throw new CircuitOpen(this.dependency, this.retryAfterMs);
      }
      throw err;
    } finally {
      this.inFlight--;
    }
  }
}
