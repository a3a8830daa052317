/** How a pending run is written, for a trigger (the API), a child run and a schedule's tick (the workers) alike. */
import type { RunRow } from "@wf/core/runs";
import type { Sql } from "@wf/platform/sql";
import { RUN_COLUMNS } from "./stored.ts";

export interface NewRun {
  id: string;
  workflowId: string;
  input: unknown;
  idempotencyKey: string | null;
  now: Date;
  /** Kafka headers stored with the outbox message (trace context), published with it however late. */
  headers?: Record<string, string>;
  /** The run whose `workflow` step starts this one; it must be `running` for the child to be written. */
  parentRunId?: string;
  /** The schedule whose tick starts this run. */
  scheduleId?: string;
  /** A later start (the trigger's run_at): a time already past is now. */
  runAt?: Date;
  /** A later start (the trigger's delay_ms), from the database's clock, as the timer reads it. */
  delayMs?: number;
}

export interface InsertedRun {
  row: RunRow;
  /** The message exactly as stored in the outbox, ready to publish; none for a run that starts later (the timer publishes it). */
  outbox?: { id: string; message: string };
}

/**
 * A run's concurrency key: the text of a compiled key template (the jsonb list `parts`, see
 * compileKey) over the jsonb `input`: literal parts as they are, a string value as its text, a
 * number, boolean, object or list as its JSON, a missing or null value as nothing. A long one is
 * hashed, so any key fits the index. Both arguments are SQL expressions.
 */
export const concurrencyKey = (parts: string, input: string) => `(
  SELECT CASE WHEN length(k) > 256 THEN 'md5:' || md5(k) ELSE k END
  FROM (SELECT COALESCE(string_agg(
          CASE WHEN jsonb_typeof(p) = 'string' THEN p #>> '{}'
               ELSE (SELECT CASE jsonb_typeof(v) WHEN 'string' THEN v #>> '{}' WHEN 'null' THEN '' ELSE v::text END
                     FROM (SELECT ${input} #> ARRAY(SELECT jsonb_array_elements_text(p->'input'))) AS x(v)) END,
          '' ORDER BY n), '') AS k
        FROM jsonb_array_elements(${parts}) WITH ORDINALITY AS parts(p, n)) AS key)`;

const CONCURRENCY_KEY = concurrencyKey("wf.concurrency_key_parts", "r.input");

/**
 * Stores pending runs and their outbox messages, any number in one statement (atomic without a
 * transaction, one round trip through PgBouncer): concurrent triggers share it. Each run copies
 * its workflow's current steps, version, concurrency limit (with its key's value for this run's
 * input) and timeout, and records `topic`, so that only the reconciler of that topic's worker group
 * ever republishes it. A run that starts later gets `wake_at` and no outbox message: the timer
 * publishes it when it is due (the same timer as a parked run's). A run missing from the answer was not inserted:
 * its workflow does not exist, its idempotency key is taken (also by an earlier row of the same
 * batch), or its parent is no longer running.
 *
 * A child is written only while its parent is `running`, and the parent row is share-locked to
 * check it: a cancel either comes first (no child is written) or waits for this insert, and its
 * cascade then sees the child (see RunStore.cancel).
 */
export async function insertPending(sql: Sql, runs: readonly NewRun[], topic: string): Promise<Map<string, InsertedRun>> {
  // One jsonb parameter holds the batch: arrays of jsonb would need hand-made array literals.
  const batch = runs.map((r, ord) => ({
    id: r.id,
    workflow_id: r.workflowId,
    input: r.input,
    idempotency_key: r.idempotencyKey,
    created_at: r.now.toISOString(),
    headers: r.headers ?? null,
    parent_run_id: r.parentRunId ?? null,
    schedule_id: r.scheduleId ?? null,
    run_at: r.runAt?.toISOString() ?? null,
    delay_ms: r.delayMs ?? null,
    ord,
  }));
  const rows = await sql<InsertedRow[]>`
    WITH req AS (
      SELECT * FROM jsonb_to_recordset(${sql.json(batch as never)}::jsonb)
        AS r(id uuid, workflow_id uuid, input jsonb, idempotency_key text, created_at timestamptz, headers jsonb, parent_run_id uuid,
             schedule_id uuid, run_at timestamptz, delay_ms bigint, ord int)
    ), ins AS (
      INSERT INTO runs (id, workflow_id, workflow_version, definition, status, input, idempotency_key, created_at, updated_at, topic, parent_run_id,
                        schedule_id, wake_at, concurrency_limit, concurrency_key, timeout_ms)
      SELECT r.id, wf.id, wf.version, wf.steps, 'pending', r.input, r.idempotency_key, r.created_at, r.created_at, ${topic}, r.parent_run_id,
             r.schedule_id,
             CASE WHEN r.run_at > now() THEN r.run_at WHEN r.delay_ms > 0 THEN now() + r.delay_ms * interval '1 millisecond' END,
             (wf.concurrency->>'limit')::int,
             CASE WHEN wf.concurrency IS NOT NULL THEN ${sql.unsafe(CONCURRENCY_KEY)} END,
             wf.timeout_ms
      FROM req r JOIN workflows wf ON wf.id = r.workflow_id
      WHERE r.parent_run_id IS NULL
         OR EXISTS (SELECT 1 FROM runs p WHERE p.id = r.parent_run_id AND p.status = 'running' FOR SHARE)
      ORDER BY r.ord
      ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
      RETURNING ${sql.unsafe(RUN_COLUMNS)}, wake_at
    ), ${withOutbox(sql, topic, sql`WHERE ins.wake_at IS NULL`)}`;
  return insertedRuns(rows);
}

/** What a run insert's statement returns: each run, with its outbox row when it has one. */
export type InsertedRow = RunRow & { outbox_id: string | null; message: string | null };

/**
 * The tail of a run insert's statement, after its CTEs `req` (the requests, by `id`, with their
 * trace `headers`) and `ins` (the inserted runs): the Kafka message of each run `where` keeps (the
 * runs that start now), in the outbox in the same statement, and the runs with their messages.
 */
export const withOutbox = (sql: Sql, topic: string, where: ReturnType<Sql>) => sql`
  ob AS (
    INSERT INTO outbox (topic, key, payload, headers)
    SELECT ${topic}, ins.id::text,
           jsonb_build_object('run_id', ins.id, 'workflow_id', ins.workflow_id, 'workflow_version', ins.workflow_version),
           r.headers
    FROM ins JOIN req r ON r.id = ins.id
    ${where}
    RETURNING id::text AS outbox_id, key, payload::text AS message
  )
  SELECT ins.*, ob.outbox_id, ob.message FROM ins LEFT JOIN ob ON ob.key = ins.id::text`;

/** The runs an insert returned, by id, with the outbox row to publish and acknowledge. */
export function insertedRuns(rows: readonly InsertedRow[]): Map<string, InsertedRun> {
  const inserted = new Map<string, InsertedRun>();
  for (const { outbox_id, message, ...row } of rows)
    inserted.set(row.id, { row, ...(outbox_id !== null && message !== null ? { outbox: { id: outbox_id, message } } : {}) });
  return inserted;
}

/** The run an idempotency key started, if any. */
export async function runByIdempotencyKey(sql: Sql, key: string): Promise<RunRow | undefined> {
  const [row] = await sql<RunRow[]>`SELECT ${sql.unsafe(RUN_COLUMNS)} FROM runs WHERE idempotency_key = ${key}`;
  return row;
}
