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
 * Only runs published to this group's own topic are adopted: groups with different runs topics
 * may share one database, and republishing another topic's run to ours would hand it to workers
 * it was never meant for (another deployment's, or a test's). A run with no recorded topic was
 * stored before runs recorded one; its topic is unknown, so any group may adopt it.
 */
export class Reconciler {
  private periodic: Periodic | undefined;
  readonly stats = { republished: 0 };

  constructor(
    private readonly sql: Sql,
    private readonly publisher: Publisher,
    private readonly log: Logger,
    private readonly opts: { topic: string; intervalMs: number; pendingStaleMs: number; leaseMs: number; batchSize: number },
  ) {}

  start(): void {
    this.periodic = startPeriodic(
      () => this.runOnce(),
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
            OR (r.status = 'pending' AND r.updated_at < now() - make_interval(secs => ${o.pendingStaleMs / 1000})
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
    return n;
  }

  stop(): void {
    this.periodic?.stop();
  }
}
