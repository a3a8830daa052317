import type { Sql } from "@wf/platform/sql";
import { waitForNone } from "./wait-for-none.ts";

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
export function quiesce(sql: Sql, q: QuiesceInput): Promise<number> {
  return waitForNone(
    async () =>
      (
        await sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM runs WHERE status IN ('pending', 'running') AND created_at >= ${q.since}`
      )[0]?.n ?? 0,
    q.deadlineS,
    (open) => q.onWait?.(`[quiesce] ${open} earlier run(s) still executing; waiting before the round`),
  );
}
