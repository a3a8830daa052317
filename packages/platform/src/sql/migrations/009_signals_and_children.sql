-- Signals sent to a run (POST /runs/{id}/signals/{name}), kept until a `wait_for_signal` step takes
-- one: oldest first per name. `consumed_by` names the wait that took it (a key stable across
-- redeliveries), so a wait done again finds the same signal instead of taking the next one.
-- No foreign key to runs, as for the other tables: runs are never deleted, and the insert already
-- reads (and locks) its run in the same statement.
CREATE TABLE run_signals (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id      uuid        NOT NULL,
  name        text        NOT NULL,
  payload     jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  consumed_by text
);
-- A wait's next signal: the oldest one of its name not yet taken.
CREATE INDEX run_signals_unconsumed_idx ON run_signals (run_id, name, id) WHERE consumed_by IS NULL;
-- The signal a wait already took; unique, so one wait can never hold two signals.
CREATE UNIQUE INDEX run_signals_consumed_uq ON run_signals (run_id, consumed_by) WHERE consumed_by IS NOT NULL;

-- The run whose `workflow` step started this one; NULL for a run triggered otherwise.
ALTER TABLE runs ADD COLUMN parent_run_id uuid;
-- Children of a run (a cancel's cascade; the list filter `parent_run_id`), newest first. Partial:
-- top-level runs, most of them, cost the trigger's insert no write into it.
CREATE INDEX runs_parent_created_idx ON runs (parent_run_id, created_at DESC, id DESC) WHERE parent_run_id IS NOT NULL;
