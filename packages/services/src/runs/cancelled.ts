/** How a cancel writes a run, for RunStore.cancel and a bulk cancel's batches alike. */
import type { Sql } from "@wf/platform/sql";

/**
 * SET clauses of a cancel besides the status: a parked run has no worker to record its steps'
 * end, so its waiting steps are marked cancelled here (as a worker marks a step it interrupts);
 * and nothing is to wake it any more.
 */
export const parkedCancelled = (sql: Sql, now: Date) => sql`
  wake_at = NULL,
  steps = CASE WHEN status = 'running' AND lease_owner IS NULL THEN (
    SELECT COALESCE(jsonb_agg(CASE WHEN e->>'status' IN ('pending', 'running', 'waiting')
                                   THEN e || jsonb_build_object('status', 'cancelled', 'finished_at', ${now.toISOString()}::text, 'error', 'stopped: cancelled')
                                   ELSE e END ORDER BY n), '[]'::jsonb)
    FROM jsonb_array_elements(steps) WITH ORDINALITY AS x(e, n)) ELSE steps END`;
