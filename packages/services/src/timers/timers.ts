import { encodeRunMessage } from "@wf/core/runs";
import type { Publisher } from "@wf/platform/bus";
import type { Logger } from "@wf/platform/observability";
import { errorFields } from "@wf/platform/observability";
import { type Periodic, startPeriodic } from "@wf/platform/process";
import type { Sql } from "@wf/platform/sql";

export interface TimerOptions {
  topic: string;
  pollMs: number;
  batchSize: number;
}

/**
 * The one timer of every durable wait: hands parked runs that are due (a delay or backoff over, a
 * signal or a child's end arrived) back to Kafka. Every worker runs one; FOR UPDATE SKIP LOCKED
 * shares the due runs among them. Taking a run gives it an already expired lease in the same
 * statement, so if its message is then lost (the process dies before publishing) the reconciler
 * adopts it like any run whose worker died; a message delivered twice is harmless, since claiming
 * is a compare-and-set. Only runs of this group's topic are woken (see the Reconciler).
 */
export class Timers {
  private periodic: Periodic | undefined;
  readonly stats = { woken: 0 };

  constructor(
    private readonly sql: Sql,
    private readonly publisher: Publisher,
    private readonly log: Logger,
    private readonly opts: TimerOptions,
  ) {}

  start(): void {
    // A full batch: more may be due now.
    this.periodic = startPeriodic(
      async () => (await this.runOnce()) === this.opts.batchSize,
      this.opts.pollMs,
      (err) => this.log.warn("timer pass failed", errorFields(err)),
    );
  }

  /** Wakes the runs due now (at most a batch); returns how many. */
  async runOnce(): Promise<number> {
    if (!this.publisher.isConnected) return 0;
    const o = this.opts;
    const rows = await this.sql<{ id: string; workflow_id: string; workflow_version: number }[]>`
      UPDATE runs SET wake_at = NULL, lease_expires_at = now() - interval '1 millisecond', updated_at = now()
      WHERE id IN (SELECT id FROM runs
                   WHERE wake_at <= now() AND status = 'running' AND lease_owner IS NULL AND (topic = ${o.topic} OR topic IS NULL)
                   ORDER BY wake_at LIMIT ${o.batchSize}
                   FOR UPDATE SKIP LOCKED)
      RETURNING id, workflow_id, workflow_version`;
    if (rows.length === 0) return 0;
    await this.publisher.sendBatch(
      rows.map((r) => ({
        topic: o.topic,
        key: r.id,
        value: encodeRunMessage({ run_id: r.id, workflow_id: r.workflow_id, workflow_version: r.workflow_version }),
      })),
    );
    this.stats.woken += rows.length;
    return rows.length;
  }

  stop(): void {
    this.periodic?.stop();
  }
}
