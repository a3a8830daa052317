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
}

export interface InsertedRun {
  row: RunRow;
  outboxId: string;
  /** The message exactly as stored in the outbox, ready to publish. */
  message: string;
}

/**
 * Stores pending runs and their outbox messages, any number in one statement (atomic without a
 * transaction, one round trip through PgBouncer): concurrent triggers share it. Each run copies
 * its workflow's current steps and version, and records `topic`, so that only the reconciler of
 * that topic's worker group ever republishes it. A run missing from the answer was not inserted:
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
    ord,
  }));
  const rows = await sql<(RunRow & { outbox_id: string; message: string })[]>`
    WITH req AS (
      SELECT * FROM jsonb_to_recordset(${sql.json(batch as never)}::jsonb)
        AS r(id uuid, workflow_id uuid, input jsonb, idempotency_key text, created_at timestamptz, headers jsonb, parent_run_id uuid, schedule_id uuid, ord int)
    ), ins AS (
      INSERT INTO runs (id, workflow_id, workflow_version, definition, status, input, idempotency_key, created_at, updated_at, topic, parent_run_id, schedule_id)
      SELECT r.id, wf.id, wf.version, wf.steps, 'pending', r.input, r.idempotency_key, r.created_at, r.created_at, ${topic}, r.parent_run_id, r.schedule_id
      FROM req r JOIN workflows wf ON wf.id = r.workflow_id
      WHERE r.parent_run_id IS NULL
         OR EXISTS (SELECT 1 FROM runs p WHERE p.id = r.parent_run_id AND p.status = 'running' FOR SHARE)
      ORDER BY r.ord
      ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
      RETURNING ${sql.unsafe(RUN_COLUMNS)}
    ), ob AS (
      INSERT INTO outbox (topic, key, payload, headers)
      SELECT ${topic}, ins.id::text,
             jsonb_build_object('run_id', ins.id, 'workflow_id', ins.workflow_id, 'workflow_version', ins.workflow_version),
             r.headers
      FROM ins JOIN req r ON r.id = ins.id
      RETURNING id::text AS outbox_id, key, payload::text AS message
    )
    SELECT ins.*, ob.outbox_id, ob.message FROM ins JOIN ob ON ob.key = ins.id::text`;
  const inserted = new Map<string, InsertedRun>();
  for (const { outbox_id, message, ...row } of rows) inserted.set(row.id, { row, outboxId: outbox_id, message });
  return inserted;
}

/** The run an idempotency key started, if any. */
export async function runByIdempotencyKey(sql: Sql, key: string): Promise<RunRow | undefined> {
  const [row] = await sql<RunRow[]>`SELECT ${sql.unsafe(RUN_COLUMNS)} FROM runs WHERE idempotency_key = ${key}`;
  return row;
}
