/**
 * What a run's end does besides its own row, in the same statement: hand its concurrency slot on and
 * enqueue its webhook deliveries. For the worker's terminal write and the API's cancels alike.
 */
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

/**
 * A CTE body: a webhook delivery for each run of CTE `ended` (with its `id, workflow_id, status`)
 * and each webhook that asks for its event (`run.<status>`), of all workflows or of the run's.
 * In the statement of the run's terminal write, so a run never ends without its deliveries (the
 * webhooks' outbox; the workers' WebhookDispatcher sends them). With no webhook at all the
 * EXISTS is a one-time filter that is false, and nothing under it runs: the hot path pays one
 * probe of an empty table. `created_at` in milliseconds, as the ids: keyset cursors hold those.
 */
export const enqueueWebhooks = (sql: Sql, ended: string) => sql`
  INSERT INTO webhook_deliveries (id, webhook_id, event, run_id, topic, next_attempt_at, created_at, updated_at)
  SELECT wf_uuid_v7(t.at), w.id, 'run.' || e.status, e.id, w.topic, t.at, t.at, t.at
  FROM ${sql.unsafe(ended)} e
  JOIN webhooks w ON ('run.' || e.status) = ANY (w.events) AND (w.workflow_id IS NULL OR w.workflow_id = e.workflow_id)
  CROSS JOIN (SELECT date_trunc('milliseconds', now()) AS at) t
  WHERE EXISTS (SELECT 1 FROM webhooks)`;
