import type { Sql } from "@wf/platform/sql";
import { pgArray } from "@wf/platform/sql";
import type { Audit, Target } from "../results.ts";
import { waitForNone } from "./wait-for-none.ts";

export interface AuditInput {
  target: Target;
  round: number;
  tag: string;
  accepted_runs: string[];
  workflows_created: number;
  deadlineS: number;
  onWait?: (line: string) => void;
}

/**
 * After a flow: every run answered 202 reached a terminal state within the deadline; PostgreSQL
 * holds exactly the workflows and runs whose creation succeeded; no idempotency key has two runs.
 * Anything else fails the audit, and a failed audit fails the bench.
 */
export async function audit(sql: Sql, a: AuditInput): Promise<Audit> {
  const problems: string[] = [];
  const ids = pgArray(a.accepted_runs);
  const notTerminal = await waitForNone(
    async () =>
      (
        await sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM runs WHERE id = ANY(${ids}::uuid[]) AND status NOT IN ('completed', 'failed', 'cancelled')`
      )[0]?.n ?? 0,
    a.deadlineS,
    (n) => a.onWait?.(`[audit ${a.target} r${a.round}] ${n} run(s) not finished yet`),
  );
  const pattern = `${a.tag}-%`;
  const [counts] = await sql<{ workflows: number; runs: number; dup: number; matched: number; failed: number }[]>`
    SELECT
      (SELECT count(*)::int FROM workflows WHERE name LIKE ${pattern}) AS workflows,
      (SELECT count(*)::int FROM runs WHERE idempotency_key LIKE ${pattern}) AS runs,
      (SELECT count(*)::int FROM (SELECT idempotency_key FROM runs WHERE idempotency_key LIKE ${pattern}
                                  GROUP BY idempotency_key HAVING count(*) > 1) d) AS dup,
      (SELECT count(*)::int FROM runs WHERE id = ANY(${ids}::uuid[])) AS matched,
      (SELECT count(*)::int FROM runs WHERE id = ANY(${ids}::uuid[]) AND status <> 'completed') AS failed`;
  const c = counts ?? { workflows: 0, runs: 0, dup: 0, matched: 0, failed: 0 };
  const distinct = new Set(a.accepted_runs).size;

  if (notTerminal > 0) problems.push(`${notTerminal} accepted run(s) not terminal after ${a.deadlineS} s`);
  if (c.matched !== distinct) problems.push(`${distinct} run id(s) were answered 202 but ${c.matched} exist in PostgreSQL`);
  if (c.runs !== distinct) problems.push(`PostgreSQL holds ${c.runs} run(s) of this flow for ${distinct} accepted trigger(s)`);
  if (c.workflows !== a.workflows_created)
    problems.push(`PostgreSQL holds ${c.workflows} workflow(s) of this flow for ${a.workflows_created} created`);
  if (c.dup > 0) problems.push(`${c.dup} idempotency key(s) have more than one run`);
  if (c.failed > 0 && notTerminal === 0) problems.push(`${c.failed} run(s) ended failed or cancelled (the flow's workflow cannot fail)`);

  return {
    target: a.target,
    round: a.round,
    passed: problems.length === 0,
    runs_accepted: distinct,
    runs_terminal: c.matched - notTerminal,
    runs_not_terminal: notTerminal,
    workflows_created_ok: a.workflows_created,
    workflows_in_db: c.workflows,
    runs_in_db: c.runs,
    duplicate_idempotency_keys: c.dup,
    deadline_s: a.deadlineS,
    problems,
  };
}
