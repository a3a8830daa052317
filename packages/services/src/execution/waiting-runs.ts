import type { Logger, WaitingRunCounts } from "@wf/platform/observability";
import { errorFields } from "@wf/platform/observability";
import type { Sql } from "@wf/platform/sql";

/**
 * Counts the runs that wait, for the runs_waiting gauge, when Prometheus scrapes: one query over
 * the unfinished runs of this group's topic (the status index), no loop of its own. Scrapes at
 * the same moment share the query; a failed one answers the last counts.
 */
export class WaitingRuns {
  private last: WaitingRunCounts = { concurrency_slot: 0, parked: 0, scheduled: 0 };
  private inFlight: Promise<WaitingRunCounts> | undefined;

  constructor(
    private readonly sql: Sql,
    private readonly log: Logger,
    private readonly topic: string,
  ) {}

  count(): Promise<WaitingRunCounts> {
    this.inFlight ??= this.query()
      .then((counts) => (this.last = counts))
      .catch((err) => {
        this.log.warn("counting waiting runs failed", errorFields(err));
        return this.last;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  private async query(): Promise<WaitingRunCounts> {
    const [row] = await this.sql<WaitingRunCounts[]>`
      SELECT count(*) FILTER (WHERE status = 'pending' AND concurrency_key IS NOT NULL AND (wake_at IS NULL OR wake_at <= now()))::int
               AS concurrency_slot,
             count(*) FILTER (WHERE status = 'running' AND lease_owner IS NULL)::int AS parked,
             count(*) FILTER (WHERE status = 'pending' AND wake_at > now())::int AS scheduled
      FROM runs WHERE status IN ('pending', 'running') AND (topic = ${this.topic} OR topic IS NULL)`;
    return row ?? this.last;
  }
}
