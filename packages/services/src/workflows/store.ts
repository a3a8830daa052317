import type { Position } from "@wf/core/pagination";
import type { WorkflowDefinition, WorkflowRow } from "@wf/core/workflows";
import { pgArray, type Sql } from "@wf/platform/sql";

const COLUMNS = "id, name, description, steps, version, created_at, updated_at";

export class WorkflowStore {
  constructor(private readonly sql: Sql) {}

  /** Any number of new workflows in one statement (one jsonb parameter holds them all). */
  async insertMany(rows: readonly WorkflowRow[]): Promise<void> {
    const batch = rows.map((r) => ({ ...r, created_at: r.created_at.toISOString(), updated_at: r.updated_at.toISOString() }));
    await this.sql`
      INSERT INTO workflows (id, name, description, steps, version, created_at, updated_at)
      SELECT id, name, description, steps, version, created_at, updated_at
      FROM jsonb_to_recordset(${this.sql.json(batch as never)}::jsonb)
        AS r(id uuid, name text, description text, steps jsonb, version int, created_at timestamptz, updated_at timestamptz)`;
  }

  async get(id: string): Promise<WorkflowRow | undefined> {
    const [row] = await this.sql<WorkflowRow[]>`SELECT ${this.sql.unsafe(COLUMNS)} FROM workflows WHERE id = ${id}::uuid`;
    return row;
  }

  /** Which of these ids are workflows: one query, whatever their number. */
  async existing(ids: readonly string[]): Promise<Set<string>> {
    const rows = await this.sql<{ id: string }[]>`SELECT id FROM workflows WHERE id = ANY(${pgArray(ids)}::uuid[])`;
    return new Set(rows.map((r) => r.id));
  }

  list(limit: number, after?: Position): Promise<WorkflowRow[]> {
    const where = after ? this.sql`WHERE (created_at, id) < (${after.createdAt}, ${after.id}::uuid)` : this.sql``;
    return this.sql<WorkflowRow[]>`
      SELECT ${this.sql.unsafe(COLUMNS)} FROM workflows ${where}
      ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`;
  }

  async replace(id: string, def: WorkflowDefinition, now: Date): Promise<WorkflowRow | undefined> {
    const [row] = await this.sql<WorkflowRow[]>`
      UPDATE workflows
      SET name = ${def.name}, description = ${def.description ?? null}, steps = ${this.sql.json(def.steps as never)},
          version = version + 1, updated_at = ${now}
      WHERE id = ${id}::uuid
      RETURNING ${this.sql.unsafe(COLUMNS)}`;
    return row;
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.sql`DELETE FROM workflows WHERE id = ${id}::uuid RETURNING id`;
    return rows.length > 0;
  }
}
