-- The run this one replays (POST /api/v1/runs/{id}/replay); NULL for a run started otherwise. No
-- foreign key, as for parent_run_id: runs are never deleted one by one.
ALTER TABLE runs ADD COLUMN replay_of uuid;
-- The replays of a run. Partial: other runs cost the trigger's insert no write into it.
CREATE INDEX runs_replay_of_idx ON runs (replay_of) WHERE replay_of IS NOT NULL;
