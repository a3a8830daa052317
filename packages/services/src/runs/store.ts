import type { Position } from "@wf/core/pagination";
import type { RunRow, RunStatus } from "@wf/core/runs";
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
}

export interface InsertedRun {
  row: RunRow;
  outboxId: string;
  /** The message exactly as stored in the outbox, ready to publish. */
  message: string;
}

export interface RunFilter {
  status?: RunStatus;
  workflowId?: string;
}

export class RunStore {
  constructor(private readonly sql: Sql) {}

  /**
   * Stores pending runs and their outbox messages, any number in one statement (atomic without a
   * transaction, one round trip through PgBouncer): concurrent triggers share it. Each run copies
   * its workflow's current steps and version, and records `topic`, so that only the reconciler of
   * that topic's worker group ever republishes it. A run missing from the answer was not inserted:
   * its workflow does not exist, or its idempotency key is taken (also by an earlier row of the
   * same batch).
   */
  async insertPending(runs: readonly NewRun[], topic: string): Promise<Map<string, InsertedRun>> {
    // One jsonb parameter holds the batch: arrays of jsonb would need hand-made array literals.
    const batch = runs.map((r, ord) => ({
      id: r.id,
      workflow_id: r.workflowId,
      input: r.input,
      idempotency_key: r.idempotencyKey,
      created_at: r.now.toISOString(),
      headers: r.headers ?? null,
      ord,
    }));
    const rows = await this.sql<(RunRow & { outbox_id: string; message: string })[]>`
      WITH req AS (
        SELECT * FROM jsonb_to_recordset(${this.sql.json(batch as never)}::jsonb)
          AS r(id uuid, workflow_id uuid, input jsonb, idempotency_key text, created_at timestamptz, headers jsonb, ord int)
      ), ins AS (
        INSERT INTO runs (id, workflow_id, workflow_version, definition, status, input, idempotency_key, created_at, updated_at, topic)
        SELECT r.id, wf.id, wf.version, wf.steps, 'pending', r.input, r.idempotency_key, r.created_at, r.created_at, ${topic}
        FROM req r JOIN workflows wf ON wf.id = r.workflow_id
        ORDER BY r.ord
        ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING ${this.sql.unsafe(RUN_COLUMNS)}
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

  async getByIdempotencyKey(key: string): Promise<RunRow | undefined> {
    const [row] = await this.sql<RunRow[]>`SELECT ${this.sql.unsafe(RUN_COLUMNS)} FROM runs WHERE idempotency_key = ${key}`;
    return row;
  }

  async get(id: string): Promise<RunRow | undefined> {
    const [row] = await this.sql<RunRow[]>`SELECT ${this.sql.unsafe(RUN_COLUMNS)} FROM runs WHERE id = ${id}::uuid`;
    return row;
  }

  list(filter: RunFilter, limit: number, after?: Position): Promise<RunRow[]> {
    const s = this.sql;
    const conds = [
      filter.status ? s`status = ${filter.status}` : undefined,
      filter.workflowId ? s`workflow_id = ${filter.workflowId}::uuid` : undefined,
      after ? s`(created_at, id) < (${after.createdAt}, ${after.id}::uuid)` : undefined,
    ].filter((c) => c !== undefined);
    const where = conds.length === 0 ? s`` : s`WHERE ${conds.reduce((acc, c) => s`${acc} AND ${c}`)}`;
    return s<RunRow[]>`
      SELECT ${s.unsafe(RUN_COLUMNS)} FROM runs ${where}
      ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`;
  }

  /** Compare-and-set to cancelled; undefined when the run is missing or already finished. */
  async cancel(id: string, now: Date): Promise<RunRow | undefined> {
    const [row] = await this.sql<RunRow[]>`
      UPDATE runs SET status = 'cancelled', finished_at = ${now}, updated_at = ${now},
             error = COALESCE(error, 'cancelled by request')
      WHERE id = ${id}::uuid AND status IN ('pending', 'running')
      RETURNING ${this.sql.unsafe(RUN_COLUMNS)}`;
    return row;
  }
}
