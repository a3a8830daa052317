import type { Sql } from "../sql/client.ts";
import type { Position } from "../pagination/cursor.ts";
import type { RunRow, RunStatus } from "./run.ts";

const COLUMNS =
  "id, workflow_id, workflow_version, status, input, output, error, steps, idempotency_key, created_at, started_at, finished_at";

export interface NewRun {
  id: string;
  workflowId: string;
  input: unknown;
  idempotencyKey: string | null;
  now: Date;
  topic: string;
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
   * Stores a pending run and its outbox message in one statement (atomic without a transaction,
   * and one round trip through PgBouncer). The run copies the workflow's current steps and
   * version. Returns undefined when nothing was inserted: the workflow does not exist, or the
   * idempotency key is already taken.
   */
  async insertPending(r: NewRun): Promise<InsertedRun | undefined> {
    const [res] = await this.sql<(RunRow & { outbox_id: string; message: string })[]>`
      WITH wf AS (
        SELECT id, version, steps FROM workflows WHERE id = ${r.workflowId}::uuid
      ), ins AS (
        INSERT INTO runs (id, workflow_id, workflow_version, definition, status, input, idempotency_key, created_at, updated_at)
        SELECT ${r.id}::uuid, wf.id, wf.version, wf.steps, 'pending', ${this.sql.json(r.input as never)}, ${r.idempotencyKey},
               ${r.now}, ${r.now}
        FROM wf
        ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING ${this.sql.unsafe(COLUMNS)}
      ), ob AS (
        INSERT INTO outbox (topic, key, payload, headers)
        SELECT ${r.topic}, ins.id::text,
               jsonb_build_object('run_id', ins.id, 'workflow_id', ins.workflow_id, 'workflow_version', ins.workflow_version),
               ${r.headers ? this.sql.json(r.headers) : null}::jsonb
        FROM ins
        RETURNING id::text AS outbox_id, payload::text AS message
      )
      SELECT ins.*, ob.outbox_id, ob.message FROM ins, ob`;
    if (!res) return undefined;
    const { outbox_id, message, ...row } = res;
    return { row, outboxId: outbox_id, message };
  }

  async getByIdempotencyKey(key: string): Promise<RunRow | undefined> {
    const [row] = await this.sql<RunRow[]>`SELECT ${this.sql.unsafe(COLUMNS)} FROM runs WHERE idempotency_key = ${key}`;
    return row;
  }

  async get(id: string): Promise<RunRow | undefined> {
    const [row] = await this.sql<RunRow[]>`SELECT ${this.sql.unsafe(COLUMNS)} FROM runs WHERE id = ${id}::uuid`;
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
      SELECT ${s.unsafe(COLUMNS)} FROM runs ${where}
      ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`;
  }

  /** Compare-and-set to cancelled; undefined when the run is missing or already finished. */
  async cancel(id: string, now: Date): Promise<RunRow | undefined> {
    const [row] = await this.sql<RunRow[]>`
      UPDATE runs SET status = 'cancelled', finished_at = ${now}, updated_at = ${now},
             error = COALESCE(error, 'cancelled by request')
      WHERE id = ${id}::uuid AND status IN ('pending', 'running')
      RETURNING ${this.sql.unsafe(COLUMNS)}`;
    return row;
  }
}
