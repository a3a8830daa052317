import type { Position } from "@wf/core/pagination";
import { type Concurrency, compileKey, type WorkflowDefinition, type WorkflowRow, type WorkflowVersionRow } from "@wf/core/workflows";
import { pgArray, type Sql } from "@wf/platform/sql";

const COLUMNS = "id, name, description, steps, concurrency, timeout_ms, version, created_at, updated_at";
const VERSION_COLUMNS = "workflow_id, version, name, description, steps, concurrency, timeout_ms, created_at";

/** The key template compiled for the trigger's statement (see insertPending); null without a limit. */
const keyParts = (c: Concurrency | null) => (c ? compileKey(c.key ?? "") : null);

export class WorkflowStore {
  constructor(private readonly sql: Sql) {}

  /**
   * Any number of new workflows, each with its version 1, in one statement (one jsonb parameter
   * holds them all): atomic without a transaction, one round trip.
   */
  async insertMany(rows: readonly WorkflowRow[]): Promise<void> {
    const batch = rows.map((r) => ({
      ...r,
      key_parts: keyParts(r.concurrency),
      created_at: r.created_at.toISOString(),
      updated_at: r.updated_at.toISOString(),
    }));
    // A JSON null becomes SQL NULL in jsonb_to_recordset: no limit is stored as NULL.
    await this.sql`
      WITH r AS (
        SELECT * FROM jsonb_to_recordset(${this.sql.json(batch as never)}::jsonb)
          AS r(id uuid, name text, description text, steps jsonb, concurrency jsonb, key_parts jsonb, timeout_ms int,
               version int, created_at timestamptz, updated_at timestamptz)
      ), w AS (
        INSERT INTO workflows (id, name, description, steps, concurrency, concurrency_key_parts, timeout_ms, version, created_at, updated_at)
        SELECT id, name, description, steps, concurrency, key_parts, timeout_ms, version, created_at, updated_at FROM r
      )
      INSERT INTO workflow_versions (workflow_id, version, name, description, steps, concurrency, timeout_ms, created_at)
      SELECT id, version, name, description, steps, concurrency, timeout_ms, created_at FROM r`;
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

  /** The new definition and its version row in one statement; undefined when the workflow does not exist. */
  async replace(id: string, def: WorkflowDefinition, now: Date): Promise<WorkflowRow | undefined> {
    const concurrency = def.concurrency ?? null;
    const [row] = await this.sql<WorkflowRow[]>`
      WITH w AS (
        UPDATE workflows
        SET name = ${def.name}, description = ${def.description ?? null}, steps = ${this.sql.json(def.steps as never)},
            concurrency = ${concurrency && this.sql.json(concurrency as never)}::jsonb,
            concurrency_key_parts = ${concurrency && this.sql.json(keyParts(concurrency) as never)}::jsonb,
            timeout_ms = ${def.timeout_ms ?? null}::int,
            version = version + 1, updated_at = ${now}
        WHERE id = ${id}::uuid
        RETURNING ${this.sql.unsafe(COLUMNS)}
      ), v AS (
        INSERT INTO workflow_versions (workflow_id, version, name, description, steps, concurrency, timeout_ms, created_at)
        SELECT id, version, name, description, steps, concurrency, timeout_ms, updated_at FROM w
      )
      SELECT * FROM w`;
    return row;
  }

  /**
   * The workflow and its versions, in one statement. A replace that commits while this one waits
   * for the workflow's row lock leaves its version row behind, unseen by this statement's snapshot;
   * reads find versions through the workflows row, so no answer ever shows it.
   */
  async delete(id: string): Promise<boolean> {
    const rows = await this.sql`
      WITH v AS (DELETE FROM workflow_versions WHERE workflow_id = ${id}::uuid)
      DELETE FROM workflows WHERE id = ${id}::uuid RETURNING id`;
    return rows.length > 0;
  }

  /**
   * A page of a workflow's versions, newest first, below `before` when given; undefined when the
   * workflow does not exist (an existing one past its last version gives an empty page).
   */
  async listVersions(id: string, limit: number, before?: number): Promise<WorkflowVersionRow[] | undefined> {
    const below = before === undefined ? this.sql`` : this.sql`AND version < ${before}`;
    const rows = await this.sql<(WorkflowVersionRow | { [K in keyof WorkflowVersionRow]: null })[]>`
      SELECT v.* FROM workflows w
      LEFT JOIN LATERAL (
        SELECT ${this.sql.unsafe(VERSION_COLUMNS)} FROM workflow_versions
        WHERE workflow_id = w.id ${below}
        ORDER BY version DESC LIMIT ${limit + 1}
      ) v ON true
      WHERE w.id = ${id}::uuid`;
    if (rows.length === 0) return undefined;
    return rows.filter((r): r is WorkflowVersionRow => r.version !== null);
  }

  /** null: the workflow exists, not this version of it; undefined: no such workflow. */
  async getVersion(id: string, version: number): Promise<WorkflowVersionRow | null | undefined> {
    const [row] = await this.sql<(WorkflowVersionRow | { [K in keyof WorkflowVersionRow]: null })[]>`
      SELECT v.* FROM workflows w
      LEFT JOIN LATERAL (
        SELECT ${this.sql.unsafe(VERSION_COLUMNS)} FROM workflow_versions WHERE workflow_id = w.id AND version = ${version}
      ) v ON true
      WHERE w.id = ${id}::uuid`;
    if (!row) return undefined;
    return row.version === null ? null : (row as WorkflowVersionRow);
  }
}
