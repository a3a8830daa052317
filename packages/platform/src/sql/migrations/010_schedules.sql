-- Schedules: a cron expression in a time zone that starts runs of a workflow. `next_run_at` is the
-- next tick (NULL while disabled, or when the expression names no more dates); the workers'
-- tickers take due schedules with FOR UPDATE SKIP LOCKED, start the tick's run (idempotency key
-- schedule:<id>:<tick>) and move `next_run_at` past now in one transaction. `topic` is the runs
-- topic of the API that stored it: only tickers of that worker group take it, as the reconciler
-- and the timers adopt only their own topic's runs. No foreign key to workflows, as for runs: a
-- schedule of a deleted workflow stays, and its ticks say why they start nothing (`last_error`).
CREATE TABLE schedules (
  id           uuid PRIMARY KEY,
  workflow_id  uuid        NOT NULL,
  cron         text        NOT NULL,
  timezone     text        NOT NULL,
  input        jsonb       NOT NULL DEFAULT '{}'::jsonb,
  enabled      boolean     NOT NULL,
  overlap      text        NOT NULL CHECK (overlap IN ('allow', 'skip')),
  topic        text        NOT NULL,
  next_run_at  timestamptz,
  last_tick_at timestamptz,
  last_run_id  uuid,
  last_error   text,
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL
);
-- Keyset pagination, newest first.
CREATE INDEX schedules_created_idx ON schedules (created_at DESC, id DESC);
-- The tickers' scan: schedules with a next tick, per topic, soonest first.
CREATE INDEX schedules_due_idx ON schedules (topic, next_run_at) WHERE next_run_at IS NOT NULL;

-- The schedule whose tick started this run; NULL for a run started otherwise.
ALTER TABLE runs ADD COLUMN schedule_id uuid;
-- Runs of a schedule, newest first (the list filter `schedule_id`). Partial: other runs cost the
-- trigger's insert no write into it.
CREATE INDEX runs_schedule_created_idx ON runs (schedule_id, created_at DESC, id DESC) WHERE schedule_id IS NOT NULL;
