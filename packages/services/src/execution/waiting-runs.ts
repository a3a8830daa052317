import type { Lateness, Logger, WaitingRunCounts } from "@wf/platform/observability";
import { errorFields } from "@wf/platform/observability";
import type { Sql } from "@wf/platform/sql";

interface Snapshot {
  counts: WaitingRunCounts;
  lateness: Lateness;
}

/**
 * Counts the runs that wait, and how late the oldest overdue ones are, for the runs_waiting,
 * runs_overdue_seconds and outbox_oldest_age_seconds gauges, when Prometheus scrapes: one query
 * over the unfinished runs of this group's topic (the status index) and the head of its outbox,
 * no loop of its own. Scrapes (and gauges) at the same moment share the query; a failed one
 * answers the last values.
 */
export class WaitingRuns {
  private last: Snapshot = {
    counts: { concurrency_slot: 0, parked: 0, scheduled: 0 },
    lateness: { pending: 0, parked: 0, outbox: 0 },
  };
  private inFlight: Promise<Snapshot> | undefined;

  constructor(
    private readonly sql: Sql,
    private readonly log: Logger,
    private readonly topic: string,
  ) {}

  async count(): Promise<WaitingRunCounts> {
    return (await this.snapshot()).counts;
  }

  async lateness(): Promise<Lateness> {
    return (await this.snapshot()).lateness;
  }

  private snapshot(): Promise<Snapshot> {
    this.inFlight ??= this.query()
      .then((s) => (this.last = s))
      .catch((err) => {
        this.log.warn("counting waiting runs failed", errorFields(err));
        return this.last;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  private async query(): Promise<Snapshot> {
    const [row] = await this.sql<Array<WaitingRunCounts & { pending_late: number; parked_late: number; outbox_age: number }>>`
      SELECT count(*) FILTER (WHERE status = 'pending' AND concurrency_key IS NOT NULL AND (wake_at IS NULL OR wake_at <= now()))::int
               AS concurrency_slot,
             count(*) FILTER (WHERE status = 'running' AND lease_owner IS NULL)::int AS parked,
             count(*) FILTER (WHERE status = 'pending' AND wake_at > now())::int AS scheduled,
             coalesce(extract(epoch FROM now() - min(coalesce(wake_at, created_at))
               FILTER (WHERE status = 'pending' AND concurrency_key IS NULL AND coalesce(wake_at, created_at) <= now())), 0)::float8
               AS pending_late,
             coalesce(extract(epoch FROM now() - min(wake_at)
               FILTER (WHERE status = 'running' AND lease_owner IS NULL AND wake_at <= now())), 0)::float8 AS parked_late,
             coalesce((SELECT extract(epoch FROM now() - created_at) FROM outbox WHERE topic = ${this.topic} ORDER BY id LIMIT 1), 0)::float8
               AS outbox_age
      FROM runs WHERE status IN ('pending', 'running') AND (topic = ${this.topic} OR topic IS NULL)`;
    if (!row) return this.last;
    return {
      counts: { concurrency_slot: row.concurrency_slot, parked: row.parked, scheduled: row.scheduled },
      lateness: { pending: row.pending_late, parked: row.parked_late, outbox: row.outbox_age },
    };
  }
}
