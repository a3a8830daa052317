/** Cancels many runs at once: a bulk cancel's batches, each one statement. */
import type { RunFilter } from "@wf/core/runs";
import { pgArray, type Sql } from "@wf/platform/sql";
import { parkedCancelled } from "./cancelled.ts";
import { runPageSql } from "./filter.ts";
import { enqueueWebhooks, wakeSlots } from "./slots.ts";

type Fragment = ReturnType<Sql>;

/** PostgreSQL's deadlock_detected. */
const DEADLOCK = "40P01";

/** Ids of up to `limit` runs the filter matches, newest first: the list's own query (see runPageSql). */
export async function matchingRunIds(sql: Sql, filter: RunFilter, limit: number): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`${runPageSql(sql, "id, created_at", filter, limit)}`;
  return rows.map((r) => r.id);
}

export interface BatchCancelled {
  /** Runs of the batch this statement cancelled. */
  cancelled: string[];
  /** Their pending and running descendants, cancelled with them. */
  descendants: string[];
  /** Runs of the batch still unfinished but locked right now (being claimed, finished...): to try again. */
  busy: string[];
}

/**
 * One statement: cancels the runs of `ids` still pending or running, as RunStore.cancel cancels
 * one, for a whole batch: their pending and running descendants with them (each with the error
 * "cancelled with its ancestor run <id>"), a running parent outside the batch woken to see its
 * child's end, and the next run of each concurrency key they held or waited under woken
 * (wakeSlots), and each cancelled run's webhook deliveries enqueued (enqueueWebhooks). The batch's runs are locked SKIP LOCKED, in id order: a run some statement holds
 * right now is left for a next try (`busy`) instead of waited on, so a batch never waits behind
 * a worker's batched write. Descendants and parents are waited on, as a single cancel waits: a
 * deadlock there (PostgreSQL aborts one of the two statements) undoes the whole batch, which is
 * then `busy` as a whole.
 */
export async function cancelBatch(sql: Sql, ids: readonly string[], now: Date): Promise<BatchCancelled> {
  const [row] = await sql<{ cancelled: string[]; descendants: string[]; busy: string[] }[]>`
    WITH RECURSIVE batch AS (
      SELECT id FROM runs WHERE id = ANY(${pgArray(ids)}::uuid[]) AND status IN ('pending', 'running')
    ), locked AS (
      SELECT id FROM runs WHERE id IN (SELECT id FROM batch) AND status IN ('pending', 'running')
      ORDER BY id FOR NO KEY UPDATE SKIP LOCKED
    ), target AS (
      UPDATE runs SET status = 'cancelled', finished_at = ${now}, updated_at = ${now}, ${parkedCancelled(sql, now)},
             error = COALESCE(error, 'cancelled by request')
      WHERE id IN (SELECT id FROM locked) AND status IN ('pending', 'running')
      RETURNING id, workflow_id, status, concurrency_key, parent_run_id
    ), tree (id, root) AS (
      SELECT c.id, c.parent_run_id FROM runs c WHERE c.parent_run_id IN (SELECT id FROM target)
      UNION
      SELECT c.id, t.root FROM runs c JOIN tree t ON c.parent_run_id = t.id
    ), descendants AS (
      ${cancelDescendants(sql, now, sql`AND runs.id NOT IN (SELECT id FROM target)`)}
    ), woken AS (
      UPDATE runs SET wake_at = LEAST(wake_at, now())
      WHERE id IN (SELECT parent_run_id FROM target) AND status = 'running'
        AND id NOT IN (SELECT id FROM target) AND id NOT IN (SELECT id FROM descendants)
    ), ended AS (
      SELECT id, workflow_id, status, concurrency_key FROM target UNION ALL SELECT id, workflow_id, status, concurrency_key FROM descendants
    ), slots AS (
      ${wakeSlots(sql, "ended")}
    ), hooks AS (
      ${enqueueWebhooks(sql, "ended")}
    )
    SELECT (SELECT COALESCE(jsonb_agg(id), '[]'::jsonb) FROM target) AS cancelled,
           (SELECT COALESCE(jsonb_agg(id), '[]'::jsonb) FROM descendants) AS descendants,
           (SELECT COALESCE(jsonb_agg(id), '[]'::jsonb) FROM batch WHERE id NOT IN (SELECT id FROM locked)) AS busy`.catch(
    (err: unknown) => {
      if ((err as { code?: string }).code === DEADLOCK) return [{ cancelled: [], descendants: [], busy: [...ids] }];
      throw err;
    },
  );
  const cancelled = row?.cancelled ?? [];
  const descendants = row?.descendants ?? [];
  // A child written while this statement ran is not in its snapshot (see RunStore.cancel): swept.
  for (let swept = await sweepBatch(sql, cancelled, now); swept.length > 0; swept = await sweepBatch(sql, cancelled, now))
    descendants.push(...swept);
  return { cancelled, descendants, busy: row?.busy ?? [] };
}

/** A CTE body: cancels the runs of the CTE `tree (id, root)` still pending or running; their ids, statuses and concurrency keys. */
const cancelDescendants = (sql: Sql, now: Date, also: Fragment) => sql`
  UPDATE runs SET status = 'cancelled', finished_at = ${now}, updated_at = ${now}, ${parkedCancelled(sql, now)},
         error = COALESCE(runs.error, 'cancelled with its ancestor run ' || tree.root::text)
  FROM tree
  WHERE runs.id = tree.id AND runs.status IN ('pending', 'running') ${also}
  RETURNING runs.id, runs.workflow_id, runs.status, runs.concurrency_key`;

/** The descendants of cancelled runs still pending or running, cancelled; their ids. */
async function sweepBatch(sql: Sql, roots: readonly string[], now: Date): Promise<string[]> {
  if (roots.length === 0) return [];
  const rows = await sql<{ id: string }[]>`
    WITH RECURSIVE tree (id, root) AS (
      SELECT c.id, c.parent_run_id FROM runs c WHERE c.parent_run_id = ANY(${pgArray(roots)}::uuid[])
      UNION
      SELECT c.id, t.root FROM runs c JOIN tree t ON c.parent_run_id = t.id
    ), descendants AS (
      ${cancelDescendants(sql, now, sql``)}
    ), slots AS (
      ${wakeSlots(sql, "descendants")}
    ), hooks AS (
      ${enqueueWebhooks(sql, "descendants")}
    )
    SELECT id::text FROM descendants`;
  return rows.map((r) => r.id);
}
