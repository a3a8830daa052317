import type { Position } from "@wf/core/pagination";
import type { RunFilter, RunRow, RunStatus } from "@wf/core/runs";
import { pgArray, type Sql } from "@wf/platform/sql";
import { type BatchCancelled, cancelBatch, matchingRunIds } from "./bulk.ts";
import { parkedCancelled } from "./cancelled.ts";
import { runPageSql } from "./filter.ts";
import { type InsertedRun, insertPending, type NewRun, runByIdempotencyKey } from "./pending.ts";
import { insertReplays, type NewReplay, type ReplayOriginal, replayOriginals } from "./replays.ts";
import { enqueueWebhooks, wakeSlots } from "./slots.ts";
import { RUN_COLUMNS } from "./stored.ts";

export type { InsertedRun, NewRun } from "./pending.ts";
export type { NewReplay, ReplayOriginal } from "./replays.ts";

/** A run as its event stream reads it: what its events show, its steps' names in definition order, its revision. */
export interface RunEventRow extends Omit<RunRow, "input" | "idempotency_key"> {
  step_names: string[];
  /** updated_at in microseconds, as text: every write of a run moves it. */
  revision: string;
  /** Cancelled while a worker held it: that worker is yet to record how its steps ended (recordCancelled). */
  settling: boolean;
}

const REVISION = "(extract(epoch FROM updated_at) * 1000000)::int8::text AS revision";

/** A CTE body: cancels the runs of the CTE `tree` that are still pending or running; their ids, statuses and concurrency keys. */
const cancelTree = (sql: Sql, id: string, now: Date) => sql`
  UPDATE runs SET status = 'cancelled', finished_at = ${now}, updated_at = ${now}, ${parkedCancelled(sql, now)},
         error = COALESCE(error, ${`cancelled with its ancestor run ${id}`})
  WHERE id IN (SELECT id FROM tree) AND status IN ('pending', 'running')
  RETURNING id, workflow_id, status, concurrency_key`;

export class RunStore {
  constructor(private readonly sql: Sql) {}

  /** See insertPending: the trigger's one statement, shared with the workers' child runs. */
  insertPending(runs: readonly NewRun[], topic: string): Promise<Map<string, InsertedRun>> {
    return insertPending(this.sql, runs, topic);
  }

  /** See insertReplays: replays of finished runs, in one statement, as the trigger's. */
  insertReplays(replays: readonly NewReplay[], topic: string): Promise<Map<string, InsertedRun>> {
    return insertReplays(this.sql, replays, topic);
  }

  /** The runs of `ids` (UUIDs) that exist, as a replay reads them. */
  replayOriginals(ids: readonly string[]): Promise<ReplayOriginal[]> {
    return replayOriginals(this.sql, ids);
  }

  getByIdempotencyKey(key: string): Promise<RunRow | undefined> {
    return runByIdempotencyKey(this.sql, key);
  }

  async get(id: string): Promise<RunRow | undefined> {
    const [row] = await this.sql<RunRow[]>`SELECT ${this.sql.unsafe(RUN_COLUMNS)} FROM runs WHERE id = ${id}::uuid`;
    return row;
  }

  /** The run as its event stream shows it; undefined when it does not exist. */
  async eventState(id: string): Promise<RunEventRow | undefined> {
    const [row] = await this.sql<RunEventRow[]>`
      SELECT id, workflow_id, workflow_version, parent_run_id, schedule_id, replay_of, status, output, error, steps, created_at, started_at,
             finished_at, ${this.sql.unsafe(REVISION)}, jsonb_path_query_array(definition, '$[*].name') AS step_names,
             (status = 'cancelled' AND lease_owner IS NOT NULL AND lease_expires_at > now()) AS settling
      FROM runs WHERE id = ${id}::uuid`;
    return row;
  }

  /** The revisions of the given runs (those that exist): what the event streams' slow poll compares. */
  async revisions(ids: string[]): Promise<{ id: string; revision: string }[]> {
    return this.sql<{ id: string; revision: string }[]>`
      SELECT id, ${this.sql.unsafe(REVISION)} FROM runs WHERE id = ANY(${pgArray(ids)}::uuid[])`;
  }

  /** A page of the runs the filter matches, newest first, after `after`: `limit + 1` rows, the last telling whether more follow (see toPage). */
  list(filter: RunFilter, limit: number, after?: Position): Promise<RunRow[]> {
    return this.sql<RunRow[]>`${runPageSql(this.sql, RUN_COLUMNS, filter, limit + 1, after)}`;
  }

  /** Ids of up to `limit` runs the filter matches, newest first. */
  matchingIds(filter: RunFilter, limit: number): Promise<string[]> {
    return matchingRunIds(this.sql, filter, limit);
  }

  /** Cancels a batch of runs in one statement, as `cancel` does one (see cancelBatch). */
  cancelBatch(ids: readonly string[], now: Date): Promise<BatchCancelled> {
    return cancelBatch(this.sql, ids, now);
  }

  /**
   * Compare-and-set to cancelled, with the run's pending and running descendants (children,
   * grandchildren...) in the same statement; a parent still running is woken (`wake_at`) to see
   * its child's end, and so is the next run of each concurrency key a cancelled run waited or ran
   * under (wakeSlots: a pending run too may have been the one the others wait behind), and each
   * cancelled run's webhook deliveries are enqueued (enqueueWebhooks). Undefined
   * when the run is missing or already finished.
   *
   * A child started while this statement ran is not in its snapshot: its insert held the parent's
   * row (see insertPending), so it committed before this statement could cancel that parent, and
   * a sweep with a fresh snapshot cancels it. Sweeps repeat until one finds nothing (almost always
   * the first): no child can be written under a cancelled run afterwards.
   */
  async cancel(id: string, now: Date): Promise<{ run: RunRow; descendants: string[] } | undefined> {
    const [row] = await this.sql<(RunRow & { descendants: string[] })[]>`
      WITH RECURSIVE target AS (
        UPDATE runs SET status = 'cancelled', finished_at = ${now}, updated_at = ${now}, ${parkedCancelled(this.sql, now)},
               error = COALESCE(error, 'cancelled by request')
        WHERE id = ${id}::uuid AND status IN ('pending', 'running')
        RETURNING ${this.sql.unsafe(RUN_COLUMNS)}, concurrency_key
      ), tree (id) AS (
        SELECT c.id FROM runs c WHERE c.parent_run_id = ${id}::uuid AND EXISTS (SELECT 1 FROM target)
        UNION
        SELECT c.id FROM runs c JOIN tree t ON c.parent_run_id = t.id
      ), descendants AS (
        ${cancelTree(this.sql, id, now)}
      ), woken AS (
        UPDATE runs SET wake_at = LEAST(wake_at, now())
        WHERE id = (SELECT parent_run_id FROM target) AND status = 'running'
      ), ended AS (
        SELECT id, workflow_id, status, concurrency_key FROM target UNION ALL SELECT id, workflow_id, status, concurrency_key FROM descendants
      ), slots AS (
        ${wakeSlots(this.sql, "ended")}
      ), hooks AS (
        ${enqueueWebhooks(this.sql, "ended")}
      )
      SELECT ${this.sql.unsafe(RUN_COLUMNS)}, (SELECT COALESCE(jsonb_agg(id), '[]'::jsonb) FROM descendants) AS descendants FROM target`;
    if (!row) return undefined;
    const { descendants, ...run } = row;
    for (let swept = await this.sweep(id, now); swept.length > 0; swept = await this.sweep(id, now)) descendants.push(...swept);
    return { run, descendants };
  }

  /** The descendants of a cancelled run still pending or running, cancelled; their ids. */
  private async sweep(id: string, now: Date): Promise<string[]> {
    const rows = await this.sql<{ id: string }[]>`
      WITH RECURSIVE tree (id) AS (
        SELECT c.id FROM runs c WHERE c.parent_run_id = ${id}::uuid
        UNION
        SELECT c.id FROM runs c JOIN tree t ON c.parent_run_id = t.id
      ), descendants AS (
        ${cancelTree(this.sql, id, now)}
      ), slots AS (
        ${wakeSlots(this.sql, "descendants")}
      ), hooks AS (
        ${enqueueWebhooks(this.sql, "descendants")}
      )
      SELECT id::text FROM descendants`;
    return rows.map((r) => r.id);
  }

  /**
   * Stores a signal for a run that is not finished, in one statement: the run's row is locked, so
   * the status it answers is the one the signal was stored against; a `running` run is woken
   * (`wake_at`, kept by a leased run's park) so a wait parked on it resumes; a pending run keeps
   * the signal for when its step waits. Undefined when the run does not exist; `id` null when it
   * is finished (nothing stored).
   */
  async signal(runId: string, name: string, payload: unknown): Promise<{ status: RunStatus; id: string | null } | undefined> {
    const [row] = await this.sql<{ status: RunStatus; id: string | null }[]>`
      WITH run AS (
        SELECT id, status FROM runs WHERE id = ${runId}::uuid FOR NO KEY UPDATE
      ), sig AS (
        INSERT INTO run_signals (run_id, name, payload)
        -- A null payload reaches the server as SQL NULL: stored as JSON null.
        SELECT id, ${name}, COALESCE(${this.sql.json(payload as never)}::jsonb, 'null'::jsonb) FROM run
        WHERE status IN ('pending', 'running')
        RETURNING id
      ), woken AS (
        UPDATE runs SET wake_at = LEAST(wake_at, now())
        WHERE id = ${runId}::uuid AND status = 'running' AND EXISTS (SELECT 1 FROM sig)
      )
      SELECT run.status, sig.id::text AS id FROM run LEFT JOIN sig ON true`;
    return row;
  }
}
