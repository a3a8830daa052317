import { encodeRunMessage } from "@wf/core/runs";
import type { Publisher } from "@wf/platform/bus";
import type { Logger } from "@wf/platform/observability";
import { errorFields } from "@wf/platform/observability";
import { type Periodic, startPeriodic } from "@wf/platform/process";
import type { Sql } from "@wf/platform/sql";
import { pgArray } from "@wf/platform/sql";

const LOCK_KEY = 727_002;

/**
 * The safety net under at-least-once delivery: finds runs nobody is working on and publishes
 * them again. A running run whose lease expired lost its worker (killed mid-run); a run pending for
 * `pendingStaleMs` with nothing waiting in the outbox lost its message (a broker that lost data).
 * Republishing bumps `updated_at`, so one run is not republished again before another period has
 * passed; a duplicate message is harmless, since claiming is a compare-and-set.
 *
 * A pending run that waits for its time (a `wake_at`, kept until the timer takes it) is the
 * timer's, not this rule's; nor is a pending run of a limited workflow, which may rightly wait
 * for a concurrency slot for hours. For those the net is `wakeStranded`: the oldest due run of a
 * concurrency key that has a free slot, untouched for an interval, is woken for the timer to
 * publish. That covers a lost message and a slot whose hand-over was missed (see wakeStranded).
 *
 * Only runs published to this group's own topic are adopted: groups with different runs topics
 * may share one database, and republishing another topic's run to ours would hand it to workers
 * it was never meant for (another deployment's, or a test's). A run with no recorded topic was
 * stored before runs recorded one; its topic is unknown, so any group may adopt it.
 */
export class Reconciler {
  private periodic: Periodic | undefined;
  readonly stats = { republished: 0, slotsWoken: 0 };

  constructor(
    private readonly sql: Sql,
    private readonly publisher: Publisher,
    private readonly log: Logger,
    private readonly opts: { topic: string; intervalMs: number; pendingStaleMs: number; leaseMs: number; batchSize: number },
  ) {}

  start(): void {
    this.periodic = startPeriodic(
      async () => {
        await this.runOnce();
        return undefined;
      },
      this.opts.intervalMs,
      (err) => this.log.warn("reconciler pass failed", errorFields(err)),
    );
  }

  /** One pass (one process at a time across the group, by advisory lock); returns runs republished. */
  async runOnce(): Promise<number> {
    if (!this.publisher.isConnected) return 0;
    const o = this.opts;
    const n = await this.sql.begin(async (tx) => {
      const [lock] = await tx<{ ok: boolean }[]>`SELECT pg_try_advisory_xact_lock(${LOCK_KEY}) AS ok`;
      if (!lock?.ok) return 0;
      const rows = await tx<{ id: string; workflow_id: string; workflow_version: number }[]>`
        SELECT r.id, r.workflow_id, r.workflow_version FROM runs r
        WHERE (r.topic = ${o.topic} OR r.topic IS NULL)
          AND ((r.status = 'running' AND r.lease_expires_at < now()
                AND r.updated_at < now() - make_interval(secs => ${o.leaseMs / 1000}))
            OR (r.status = 'pending' AND r.wake_at IS NULL AND r.concurrency_key IS NULL
                AND r.updated_at < now() - make_interval(secs => ${o.pendingStaleMs / 1000})
                AND NOT EXISTS (SELECT 1 FROM outbox x WHERE x.key = r.id::text)))
        ORDER BY r.updated_at LIMIT ${o.batchSize}
        FOR UPDATE SKIP LOCKED`;
      if (rows.length === 0) return 0;
      await this.publisher.sendBatch(
        rows.map((r) => ({
          topic: o.topic,
          key: r.id,
          value: encodeRunMessage({ run_id: r.id, workflow_id: r.workflow_id, workflow_version: r.workflow_version }),
        })),
      );
      await tx`UPDATE runs SET updated_at = now() WHERE id = ANY(${pgArray(rows.map((r) => r.id))}::uuid[])`;
      return rows.length;
    });
    if (n > 0) {
      this.stats.republished += n;
      this.log.info("reconciler republished abandoned runs", { runs: n });
    }
    const woken = await this.wakeStranded();
    if (woken > 0) {
      this.stats.slotsWoken += woken;
      this.log.info("reconciler woke runs waiting for a free concurrency slot", { runs: woken });
    }
    return n + woken;
  }

  /**
   * Wakes, for each concurrency key of this topic's runs, its oldest due pending run if the key has
   * a free slot and nothing touched that run for an interval. Normally the end of a run of the key
   * wakes it (wakeSlots) and a claim hands a slot left free on (claimLimited); this catches what
   * those cannot: a message lost (the timer's publish, a trigger's), and a hand-over passed over
   * because the next run was locked at that instant (SKIP LOCKED) by something that does not
   * publish it (a signal being stored). Scans only the unfinished limited runs (a partial index).
   */
  async wakeStranded(): Promise<number> {
    const o = this.opts;
    const rows = await this.sql`
      UPDATE runs SET wake_at = now(), updated_at = now()
      WHERE id IN (
        SELECT o.id
        FROM (SELECT DISTINCT workflow_id, concurrency_key FROM runs
              WHERE concurrency_key IS NOT NULL AND status = 'pending' AND (topic = ${o.topic} OR topic IS NULL)) AS k
        CROSS JOIN LATERAL (
          SELECT p.id, p.wake_at, p.updated_at, p.concurrency_limit FROM runs p
          WHERE p.workflow_id = k.workflow_id AND p.concurrency_key = k.concurrency_key AND p.status = 'pending'
            AND (p.wake_at IS NULL OR p.wake_at <= now())
          ORDER BY p.created_at, p.id LIMIT 1) AS o
        WHERE o.wake_at IS NULL AND o.updated_at < now() - make_interval(secs => ${o.intervalMs / 1000})
          AND (SELECT count(*) FROM runs r
               WHERE r.workflow_id = k.workflow_id AND r.concurrency_key = k.concurrency_key AND r.status = 'running') < o.concurrency_limit
        LIMIT ${o.batchSize})
      AND status = 'pending' AND wake_at IS NULL
      RETURNING 1`;
    return rows.length;
  }

  stop(): void {
    this.periodic?.stop();
  }
}
