import type { Position } from "@wf/core/pagination";
import type { RunRow, RunStatus } from "@wf/core/runs";
import type { Sql } from "@wf/platform/sql";
import { type InsertedRun, insertPending, type NewRun, runByIdempotencyKey } from "./pending.ts";
import { RUN_COLUMNS } from "./stored.ts";

export type { InsertedRun, NewRun } from "./pending.ts";

export interface RunFilter {
  status?: RunStatus;
  workflowId?: string;
}

export class RunStore {
  constructor(private readonly sql: Sql) {}

  /** See insertPending: the trigger's one statement, shared with the workers' child runs. */
  insertPending(runs: readonly NewRun[], topic: string): Promise<Map<string, InsertedRun>> {
    return insertPending(this.sql, runs, topic);
  }

  getByIdempotencyKey(key: string): Promise<RunRow | undefined> {
    return runByIdempotencyKey(this.sql, key);
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
