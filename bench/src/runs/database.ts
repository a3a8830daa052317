import type { Sql } from "@wf/platform/sql";
import { stats } from "../flow/stats.ts";
import { waitForNone } from "../flow/wait-for-none.ts";
import type { Stats } from "../results.ts";

/** The runs of one workflow as the engine recorded them: the bench reads its timings from there. */
export interface RunTimings {
  total: number;
  completed: number;
  failed: number;
  /** Not terminal (pending or running). */
  open: number;
  duplicateSteps: number;
  start: Stats;
  complete: Stats;
  /** First trigger and last completion, epoch ms: the window completions are counted over. */
  firstCreatedMs: number;
  lastFinishedMs: number;
}

/**
 * Waits until none of the workflow's runs is pending or running; the runs still open at the
 * deadline. Every 100 ms: the load step's CPU window closes when this returns.
 */
export function waitForTerminal(sql: Sql, workflowId: string, deadlineS: number): Promise<number> {
  const open = async () =>
    (
      await sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM runs WHERE workflow_id = ${workflowId}::uuid AND status IN ('pending', 'running')`
    )[0]?.n ?? 0;
  return waitForNone(open, deadlineS, undefined, 100);
}

/**
 * Timings of every run of a workflow: trigger → claim (created_at → started_at) and trigger →
 * terminal (created_at → finished_at), and the audit's counts: a step with more than one attempt
 * in a workflow that never fails means a step completed twice.
 */
export async function runTimings(sql: Sql, workflowId: string): Promise<RunTimings> {
  const rows = await sql<
    { status: string; start_ms: number | null; complete_ms: number | null; created_ms: number; finished_ms: number | null; extra: number }[]
  >`
    SELECT status,
           extract(epoch FROM started_at - created_at) * 1000 AS start_ms,
           extract(epoch FROM finished_at - created_at) * 1000 AS complete_ms,
           extract(epoch FROM created_at) * 1000 AS created_ms,
           extract(epoch FROM finished_at) * 1000 AS finished_ms,
           (SELECT count(*) FROM jsonb_array_elements(steps) s WHERE (s->>'attempts')::int > 1)::int AS extra
      FROM runs WHERE workflow_id = ${workflowId}::uuid`;
  const start: number[] = [];
  const complete: number[] = [];
  let [completed, failed, open, duplicateSteps] = [0, 0, 0, 0];
  let firstCreatedMs = Number.POSITIVE_INFINITY;
  let lastFinishedMs = 0;
  for (const r of rows) {
    if (r.status === "completed") completed++;
    else if (r.status === "pending" || r.status === "running") open++;
    else failed++;
    if (r.extra > 0) duplicateSteps++;
    firstCreatedMs = Math.min(firstCreatedMs, Number(r.created_ms));
    if (r.finished_ms !== null) lastFinishedMs = Math.max(lastFinishedMs, Number(r.finished_ms));
    if (r.start_ms !== null) start.push(Number(r.start_ms));
    if (r.complete_ms !== null && r.status === "completed") complete.push(Number(r.complete_ms));
  }
  return {
    total: rows.length,
    completed,
    failed,
    open,
    duplicateSteps,
    start: stats(Float64Array.from(start), 0),
    complete: stats(Float64Array.from(complete), 0),
    firstCreatedMs: rows.length > 0 ? firstCreatedMs : 0,
    lastFinishedMs,
  };
}

/** PostgreSQL's own counters for the bench's database: commits, rows written, WAL position. */
export interface DbMark {
  commits: number;
  rowsWritten: number;
  walBytes: number;
}

export async function dbMark(sql: Sql): Promise<DbMark> {
  const [row] = await sql<{ commits: string; rows: string; wal: string }[]>`
    SELECT xact_commit::text AS commits,
           (tup_inserted + tup_updated + tup_deleted)::text AS rows,
           pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS wal
      FROM pg_stat_database WHERE datname = current_database()`;
  return { commits: Number(row?.commits ?? 0), rowsWritten: Number(row?.rows ?? 0), walBytes: Number(row?.wal ?? 0) };
}

/** What PostgreSQL did per completed run between two marks (its statistics lag by up to a second: read after the work is over). */
export function perRun(a: DbMark, b: DbMark, runs: number) {
  const per = (x: number) => (runs > 0 ? Math.round((x / runs) * 100) / 100 : 0);
  return {
    commits_per_run: per(b.commits - a.commits),
    wal_bytes_per_run: per(b.walBytes - a.walBytes),
    rows_written_per_run: per(b.rowsWritten - a.rowsWritten),
  };
}
