import type { Position } from "@wf/core/pagination";
import type { ScheduleRow, ScheduleSpec } from "@wf/core/schedules";
import type { Sql } from "@wf/platform/sql";

export const SCHEDULE_COLUMNS =
  "id, workflow_id, cron, timezone, input, enabled, overlap, next_run_at, last_tick_at, last_run_id, last_error, created_at, updated_at";

/** What a replace found: the schedule (undefined when there is none) and whether its workflow exists. */
export interface Replaced {
  found: boolean;
  workflowExists: boolean;
  row?: ScheduleRow;
}

export class ScheduleStore {
  constructor(private readonly sql: Sql) {}

  /** The new schedule, in one statement that also checks its workflow exists; undefined when it does not. */
  async insert(id: string, spec: ScheduleSpec, topic: string, now: Date): Promise<ScheduleRow | undefined> {
    const [row] = await this.sql<ScheduleRow[]>`
      INSERT INTO schedules (id, workflow_id, cron, timezone, input, enabled, overlap, topic, next_run_at, created_at, updated_at)
      SELECT ${id}::uuid, w.id, ${spec.cron}, ${spec.timezone}, ${this.sql.json(spec.input as never)}, ${spec.enabled},
             ${spec.overlap}, ${topic}, ${spec.next_run_at}, ${now}, ${now}
      FROM workflows w WHERE w.id = ${spec.workflow_id}::uuid
      RETURNING ${this.sql.unsafe(SCHEDULE_COLUMNS)}`;
    return row;
  }

  async get(id: string): Promise<ScheduleRow | undefined> {
    const [row] = await this.sql<ScheduleRow[]>`SELECT ${this.sql.unsafe(SCHEDULE_COLUMNS)} FROM schedules WHERE id = ${id}::uuid`;
    return row;
  }

  list(limit: number, after?: Position): Promise<ScheduleRow[]> {
    const where = after ? this.sql`WHERE (created_at, id) < (${after.createdAt}, ${after.id}::uuid)` : this.sql``;
    return this.sql<ScheduleRow[]>`
      SELECT ${this.sql.unsafe(SCHEDULE_COLUMNS)} FROM schedules ${where}
      ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`;
  }

  /**
   * The new definition, in one statement that checks the workflow exists. The next tick is kept
   * when neither the expression nor the zone changes and the schedule stays enabled, so a replace
   * of its input or overlap moves no tick; otherwise it is `spec.next_run_at`, the first tick
   * after now. The ticker's row lock orders the two: a tick being started finishes first.
   */
  async replace(id: string, spec: ScheduleSpec, now: Date): Promise<Replaced> {
    const [r] = await this.sql<(ScheduleRow & { found: boolean; workflow_exists: boolean })[]>`
      WITH wf AS (
        SELECT EXISTS (SELECT 1 FROM workflows WHERE id = ${spec.workflow_id}::uuid) AS ok
      ), s AS (
        UPDATE schedules
        SET workflow_id = ${spec.workflow_id}::uuid, input = ${this.sql.json(spec.input as never)}, overlap = ${spec.overlap},
            next_run_at = CASE WHEN cron = ${spec.cron} AND timezone = ${spec.timezone} AND enabled AND ${spec.enabled}
                               AND next_run_at IS NOT NULL
                          THEN next_run_at ELSE ${spec.next_run_at}::timestamptz END,
            cron = ${spec.cron}, timezone = ${spec.timezone}, enabled = ${spec.enabled}, updated_at = ${now}
        WHERE id = ${id}::uuid AND (SELECT ok FROM wf)
        RETURNING ${this.sql.unsafe(SCHEDULE_COLUMNS)}
      )
      SELECT s.*, (SELECT ok FROM wf) AS workflow_exists,
             (EXISTS (SELECT 1 FROM s) OR EXISTS (SELECT 1 FROM schedules WHERE id = ${id}::uuid)) AS found
      FROM (SELECT 1) one LEFT JOIN s ON true`;
    const { found, workflow_exists, ...row } = r!;
    return { found, workflowExists: workflow_exists, row: row.id ? (row as ScheduleRow) : undefined };
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.sql`DELETE FROM schedules WHERE id = ${id}::uuid RETURNING id`;
    return rows.length > 0;
  }
}
