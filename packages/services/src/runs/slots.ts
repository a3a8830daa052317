/** How a run's end hands its concurrency slot on: for the worker's terminal write and the API's cancel alike. */
import type { Sql } from "@wf/platform/sql";

/**
 * A CTE body: for each concurrency key of the runs in CTE `ended` (runs this statement finishes or
 * cancels, with their `id, workflow_id, concurrency_key`), wakes the oldest pending run of the key
 * that nothing woke yet (`wake_at = now()`): the timer publishes it, and its message is a token
 * that starts the oldest due run of the key if a slot is free (see ExecutionStore.claim), or holds
 * nothing. One a key: two slots freed at once make one token, whose claim wakes the next. SKIP
 * LOCKED: a run locked right now (being claimed, woken, cancelled) is passed over for the next,
 * and never waiting here keeps terminal batches free of deadlocks. An array (an InitPlan), so the
 * runs woken are reached by primary key whatever the planner guesses of the batch; for a batch of
 * unlimited runs it is empty and costs nothing.
 */
export const wakeSlots = (sql: Sql, ended: string) => sql`
  UPDATE runs SET wake_at = now(), updated_at = now()
  WHERE id = ANY(ARRAY(
    SELECT (SELECT p.id FROM runs p
            WHERE p.workflow_id = k.workflow_id AND p.concurrency_key = k.concurrency_key AND p.status = 'pending'
              AND p.wake_at IS NULL AND p.id <> ALL(ARRAY(SELECT id FROM ${sql.unsafe(ended)}))
            ORDER BY p.created_at, p.id LIMIT 1
            FOR UPDATE SKIP LOCKED)
    FROM (SELECT DISTINCT workflow_id, concurrency_key FROM ${sql.unsafe(ended)} WHERE concurrency_key IS NOT NULL) AS k))`;
