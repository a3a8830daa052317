import type { StopReason } from "@wf/core/engine";
import { errorFields, type Logger } from "@wf/platform/observability";
import type { ExecutionStore } from "@wf/services/execution";

/**
 * The runs this process is executing, each with the AbortController that stops it. One loop asks
 * PostgreSQL, every `pollMs`, which of them were cancelled or taken over, and renews their leases
 * every third of the lease: one query for all runs, however many are in flight.
 */
export class RunWatch {
  private readonly inflight = new Map<string, AbortController>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastRenew = 0;

  constructor(
    private readonly store: ExecutionStore,
    private readonly log: Logger,
    private readonly opts: { pollMs: number; leaseMs: number },
  ) {}

  get size(): number {
    return this.inflight.size;
  }

  add(id: string): AbortController {
    const ac = new AbortController();
    this.inflight.set(id, ac);
    return ac;
  }

  remove(id: string): void {
    this.inflight.delete(id);
  }

  abortAll(reason: StopReason): void {
    for (const ac of this.inflight.values()) ac.abort(reason);
  }

  start(): void {
    const loop = async () => {
      const ids = [...this.inflight.keys()];
      if (ids.length > 0) {
        const renew = Date.now() - this.lastRenew >= this.opts.leaseMs / 3;
        try {
          const { cancelled, lost } = await this.store.poll(ids, renew);
          if (renew) this.lastRenew = Date.now();
          for (const id of cancelled) this.inflight.get(id)?.abort("cancelled" satisfies StopReason);
          for (const id of lost) this.inflight.get(id)?.abort("lease_lost" satisfies StopReason);
        } catch (err) {
          this.log.warn("could not poll running runs", errorFields(err));
        }
      }
      this.timer = setTimeout(loop, this.opts.pollMs);
    };
    this.timer = setTimeout(loop, this.opts.pollMs);
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
