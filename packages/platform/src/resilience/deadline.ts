interface Pending {
  due: number;
  expire: () => void;
}

/**
 * A fixed time bound on many concurrent calls, kept with one timer. A timer and an AbortController
 * per call (cockatiel's aggressive timeout) cost twenty times the breaker's own bookkeeping on every
 * PostgreSQL and Kafka call, to catch the rare one that hangs. Every call gets the same bound, so
 * calls fall due in the order they started: a Set keeps that order, and the one timer only ever
 * waits for the oldest call still running.
 */
export class Deadline {
  private readonly pending = new Set<Pending>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly ms: number,
    private readonly timedOut: () => Error,
  ) {}

  /** `work`'s outcome, or a rejection with `timedOut()` once it has run `ms` (it still runs, unobserved). */
  within<T>(work: PromiseLike<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { due: performance.now() + this.ms, expire: () => reject(this.timedOut()) };
      this.pending.add(entry);
      if (this.timer === undefined) this.arm(this.ms);
      work.then(
        (value) => {
          this.pending.delete(entry);
          resolve(value);
        },
        (err: unknown) => {
          this.pending.delete(entry);
          reject(err);
        },
      );
    });
  }

  /** Calls still running. */
  get size(): number {
    return this.pending.size;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.sweep(), Math.max(0, Math.ceil(ms)));
    // A bound on calls must not keep a stopping process alive; the calls themselves do if they must.
    this.timer.unref?.();
  }

  private sweep(): void {
    this.timer = undefined;
    const now = performance.now();
    for (const entry of this.pending) {
      if (entry.due > now) {
        this.arm(entry.due - now);
        return;
      }
      this.pending.delete(entry);
      entry.expire();
    }
  }
}
