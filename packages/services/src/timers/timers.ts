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

/** What a pass did: runs woken, and in how long the next known wake-up is due (null: none known). */
export interface TimerPass {
  woken: number;
  nextInMs: number | null;
}

/**
 * The one timer of the code base: hands runs whose `wake_at` has come back to Kafka. They are
 * parked runs that are due (a delay or backoff over, a signal or a child's end arrived, their
 * workflow's timeout over) and pending runs that are due (a delayed run's run_at or delay_ms, or a
 * run woken because a concurrency slot of its key came free). Every worker runs one; FOR UPDATE SKIP
 * LOCKED shares the due runs among them. Taking a run clears its wake_at and bumps updated_at in
 * the same statement, and gives a parked one an already expired lease; so if its message is then
 * lost (the process dies before publishing) the reconciler adopts it like any run whose worker
 * died, or like any pending run whose message was lost. A message delivered twice is harmless,
 * since claiming is a compare-and-set. Only runs of this group's topic are woken (see the
 * Reconciler). Between passes it sleeps until the next wake-up it knows of, at most `pollMs`, so a
 * run due at a given time is published at that time; wake-ups written meanwhile (events, freed
 * slots, new delayed runs) wait at most `pollMs`.
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

  /** Passes at once (a restart may find runs due), then as they come due. */
  start(): void {
    this.periodic = startPeriodic(
      async () => {
        const pass = await this.runOnce();
        // A full batch: more may be due now. +1: a timer may fire a little early, and the
        // database's now() must have reached wake_at.
        if (pass.woken === this.opts.batchSize) return { againInMs: 0 };
        return pass.nextInMs === null ? undefined : { againInMs: Math.ceil(pass.nextInMs) + 1 };
      },
      this.opts.pollMs,
      (err) => this.log.warn("timer pass failed", errorFields(err)),
      { immediate: true },
    );
  }

  /** Wakes the runs due now (at most a batch), and says when the next one is due. */
  async runOnce(): Promise<TimerPass> {
    if (!this.publisher.isConnected) return { woken: 0, nextInMs: null };
    const o = this.opts;
    // One statement: the runs taken, and the next wake_at after them (in this statement's snapshot
    // the taken runs still have theirs, which are past, so they do not count).
    const rows = await this.sql<{ id: string | null; workflow_id: string; workflow_version: number; next_ms: number | null }[]>`
      WITH woken AS (
        UPDATE runs SET wake_at = NULL, updated_at = now(),
               lease_expires_at = CASE WHEN status = 'running' THEN now() - interval '1 millisecond' END
        WHERE id IN (SELECT id FROM runs
                     WHERE wake_at <= now() AND (status = 'pending' OR (status = 'running' AND lease_owner IS NULL))
                       AND (topic = ${o.topic} OR topic IS NULL)
                     ORDER BY wake_at LIMIT ${o.batchSize}
                     FOR UPDATE SKIP LOCKED)
        RETURNING id, workflow_id, workflow_version
      )
      SELECT id, workflow_id, workflow_version, NULL::float8 AS next_ms FROM woken
      UNION ALL
      SELECT NULL, NULL, NULL, (
        SELECT extract(epoch FROM wake_at - now()) * 1000 FROM runs
        WHERE wake_at > now() AND (status = 'pending' OR (status = 'running' AND lease_owner IS NULL))
          AND (topic = ${o.topic} OR topic IS NULL)
        ORDER BY wake_at LIMIT 1)::float8`;
    const due = rows.filter((r): r is typeof r & { id: string } => r.id !== null);
    const nextInMs = rows.find((r) => r.id === null)?.next_ms ?? null;
    if (due.length > 0) {
      await this.publisher.sendBatch(
        due.map((r) => ({
          topic: o.topic,
          key: r.id,
          value: encodeRunMessage({ run_id: r.id, workflow_id: r.workflow_id, workflow_version: r.workflow_version }),
        })),
      );
      this.stats.woken += due.length;
    }
    return { woken: due.length, nextInMs };
  }

  stop(): void {
    this.periodic?.stop();
  }
}
