import { DomainError } from "../errors.ts";
import type { InsertedRun, NewRun, RunStore } from "./store.ts";

interface Waiting {
  run: NewRun;
  resolve: (r: InsertedRun | undefined) => void;
  reject: (err: unknown) => void;
}

/**
 * Triggers that arrive in the same event-loop turn are stored by one statement: under load the
 * insert through PgBouncer (no prepared statements: parse, plan and execute every time) is the
 * trigger's cost, and a batch pays it once. Alone, a trigger waits one turn. If a batch fails for
 * a reason of its own (not an outage), its runs are tried one by one, so one bad row fails only
 * its own request.
 */
export class TriggerBatcher {
  private queue: Waiting[] = [];
  private scheduled = false;

  constructor(
    private readonly store: Pick<RunStore, "insertPending">,
    private readonly topic: string,
    private readonly maxBatch = 500,
  ) {}

  insert(run: NewRun): Promise<InsertedRun | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ run, resolve, reject });
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
    if (batch.length > 0) void this.write(batch);
  }

  private async write(batch: Waiting[]): Promise<void> {
    try {
      const inserted = await this.store.insertPending(
        batch.map((w) => w.run),
        this.topic,
      );
      for (const w of batch) w.resolve(inserted.get(w.run.id));
    } catch (err) {
      const outage = err instanceof DomainError && err.kind === "unavailable";
      if (batch.length === 1 || outage) for (const w of batch) w.reject(err);
      else await Promise.all(batch.map((w) => this.write([w])));
    }
  }
}
