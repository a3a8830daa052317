import type { Sql } from "../sql/client.ts";
import type { Position } from "../pagination/cursor.ts";
import type { WorkflowDefinition } from "./definition.ts";
import type { WorkflowRow } from "./workflow.ts";

const COLUMNS = "id, name, description, steps, version, created_at, updated_at";

export class WorkflowStore {
  constructor(private readonly sql: Sql) {}

  async insert(row: WorkflowRow): Promise<void> {
    await this.sql`
      INSERT INTO workflows (id, name, description, steps, version, created_at, updated_at)
      VALUES (${row.id}, ${row.name}, ${row.description}, ${this.sql.json(row.steps as never)}, ${row.version},
              ${row.created_at}, ${row.updated_at})`;
  }

  async get(id: string): Promise<WorkflowRow | undefined> {
    const [row] = await this.sql<WorkflowRow[]>`SELECT ${this.sql.unsafe(COLUMNS)} FROM workflows WHERE id = ${id}::uuid`;
    return row;
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
