import { DomainError } from "@wf/core/errors";
import { isDatabaseOutage } from "./outage.ts";

interface Waiting<I, O> {
  item: I;
  resolve: (r: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Writes that arrive in the same event-loop turn are stored by one statement: under load a single
 * row's write through PgBouncer (a round trip, an executor start, a commit) costs far more than
 * the row itself, and a batch pays that once. Alone, a write waits one turn. `write` answers
 * one result per item, in order. If a batch fails for a reason of its own (not an outage), its
 * items are tried one by one, so one bad row fails only its own request; an outage fails the
 * whole batch at once instead of sending one doomed statement per item.
 */
export class StatementBatcher<I, O> {
  private queue: Waiting<I, O>[] = [];
  private scheduled = false;

  constructor(
    private readonly write: (items: readonly I[]) => Promise<readonly O[]>,
    private readonly maxBatch = 500,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    if (batch.length > 0) void this.store(batch);
  }

  private async store(batch: Waiting<I, O>[]): Promise<void> {
    try {
      const results = await this.write(batch.map((w) => w.item));
      for (const [i, w] of batch.entries()) w.resolve(results[i] as O);
    } catch (err) {
      // Through a guarded store an outage arrives as `unavailable`; straight from the driver (the
      // worker's execution store) as the driver's own error. Either way no row could be written.
      const outage = (err instanceof DomainError && err.kind === "unavailable") || isDatabaseOutage(err);
      if (batch.length === 1 || outage) for (const w of batch) w.reject(err);
      else await Promise.all(batch.map((w) => this.store([w])));
    }
  }
}
