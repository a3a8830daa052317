/** Runs by filter, in SQL: the list's pages and the bulk actions select with the same conditions. */
import type { Position } from "@wf/core/pagination";
import { RUN_STATUSES, type RunFilter } from "@wf/core/runs";
import type { Sql } from "@wf/platform/sql";

type Fragment = ReturnType<Sql>;

/**
 * The filter as one SQL condition over `runs` (TRUE when it narrows nothing), for a WHERE clause.
 * Every field is a bound parameter.
 */
export function runFilterSql(sql: Sql, f: RunFilter): Fragment {
  const conds: Fragment[] = [];
  if (f.status !== undefined)
    conds.push(f.status.length === 1 ? sql`status = ${f.status[0]!}` : sql`status IN ${sql(f.status as string[])}`);
  if (f.workflowId !== undefined) conds.push(sql`workflow_id = ${f.workflowId}::uuid`);
  if (f.scheduleId !== undefined) conds.push(sql`schedule_id = ${f.scheduleId}::uuid`);
  if (f.parentRunId !== undefined) conds.push(sql`parent_run_id = ${f.parentRunId}::uuid`);
  if (f.createdAfter !== undefined) conds.push(sql`created_at > ${f.createdAfter}`);
  if (f.createdBefore !== undefined) conds.push(sql`created_at < ${f.createdBefore}`);
  return conds.length === 0 ? sql`TRUE` : conds.reduce((acc, c) => sql`${acc} AND ${c}`);
}

/**
 * The runs a filter matches, newest first, from a keyset position on: `limit` rows of `columns`
 * (trusted SQL text, with created_at and id). Each index on runs leads with one filter column and
 * then has (created_at, id), and those of workflow_id, schedule_id and parent_run_id have status
 * second (migration 013). A query over several statuses, or over one of those three without a
 * status, is a UNION ALL of one branch per status, each the first `limit` rows of an ordered range
 * scan of one index; the few branches' rows are then sorted. `status IN (...)`, or branches without
 * their own LIMIT, let the planner read every matching row of each status and sort them all (it
 * did, at 10 million runs: tests/integration/run-filter-plans.test.ts).
 */
export function runPageSql(sql: Sql, columns: string, filter: RunFilter, limit: number, after?: Position): Fragment {
  // One upper bound only, the tighter of the cursor and created_before (it implies the other): a
  // plan made before the values are known (a prepared statement's generic plan) cannot tell which
  // is tighter, and started its index scan at the cursor, months of runs above the range.
  const { createdBefore, ...rest } = filter;
  const cursorFirst = after !== undefined && (createdBefore === undefined || after.createdAt < createdBefore);
  const f: RunFilter = cursorFirst || createdBefore === undefined ? rest : { ...rest, createdBefore };
  const keyset = after && cursorFirst ? sql` AND (created_at, id) < (${after.createdAt}, ${after.id}::uuid)` : sql``;
  const page = (g: RunFilter): Fragment => sql`
    SELECT ${sql.unsafe(columns)} FROM runs WHERE ${runFilterSql(sql, g)}${keyset}
    ORDER BY created_at DESC, id DESC LIMIT ${limit}`;
  const leadsWithStatus = f.workflowId !== undefined || f.scheduleId !== undefined || f.parentRunId !== undefined;
  const statuses = f.status ?? (leadsWithStatus ? RUN_STATUSES : undefined);
  if (statuses === undefined || statuses.length === 1) return page({ ...f, status: statuses });
  const branches = statuses.map((s): Fragment => sql`(${page({ ...f, status: [s] })})`).reduce((acc, b) => sql`${acc} UNION ALL ${b}`);
  return sql`
    SELECT ${sql.unsafe(columns)} FROM (${branches}) AS r
    ORDER BY created_at DESC, id DESC LIMIT ${limit}`;
}
