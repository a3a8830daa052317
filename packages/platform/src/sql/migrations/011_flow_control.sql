-- Workflow-level flow control: `concurrency` ({limit, key?}) and `timeout_ms`, with the definition
-- and in each version. `concurrency_key_parts` is the key template compiled (literal text and input
-- paths, see compileKey), so the trigger's own statement computes a run's key value.
ALTER TABLE workflows ADD COLUMN concurrency jsonb;
ALTER TABLE workflows ADD COLUMN concurrency_key_parts jsonb;
ALTER TABLE workflows ADD COLUMN timeout_ms integer;
ALTER TABLE workflow_versions ADD COLUMN concurrency jsonb;
ALTER TABLE workflow_versions ADD COLUMN timeout_ms integer;

-- Pinned on the run when it is triggered, as its definition is: the limit and key value it waits
-- under (NULL: not limited; '' is the key of a limit without one) and its timeout. A run with a
-- wake_at in the future is a delayed run (run_at, delay_ms), or a parked one; see runs_wake_idx.
ALTER TABLE runs ADD COLUMN concurrency_limit integer;
ALTER TABLE runs ADD COLUMN concurrency_key text;
ALTER TABLE runs ADD COLUMN timeout_ms integer;

-- A limited run's claim counts the running runs of its key and looks for an older pending one;
-- a terminal write wakes the oldest pending one. Unfinished limited runs only: unlimited runs
-- (most of them) cost no write into it, and finished ones drop out of it.
CREATE INDEX runs_concurrency_idx ON runs (workflow_id, concurrency_key, status, created_at, id)
  WHERE concurrency_key IS NOT NULL AND status IN ('pending', 'running');
