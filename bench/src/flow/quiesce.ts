import type { Sql } from "@wf/domain/sql/client";

export interface QuiesceInput {
  /** Only runs created since then count: the bench's own backlog, not a test database's leftovers. */
  since: Date;
  deadlineS: number;
  onWait?: (line: string) => void;
}

/**
 * Waits until the workers have finished every run the bench itself created before this point
 * (the previous round's oha triggers, the warm-up flow). Without it a round starts while the
 * workers and PostgreSQL still execute tens of thousands of earlier runs on the same two cores,
 * and it measures the previous round as much as its own. Returns the runs still unfinished at
 * the deadline (0 when the machine is quiet).
 */
export async function quiesce(sql: Sql, q: QuiesceInput): Promise<number> {
  const deadline = Date.now() + q.deadlineS * 1000;
  for (;;) {
    const [row] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM runs WHERE status IN ('pending', 'running') AND created_at >= ${q.since}`;
    const open = row?.n ?? 0;
    if (open === 0 || Date.now() > deadline) return open;
    q.onWait?.(`[quiesce] ${open} earlier run(s) still executing; waiting before the round`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
