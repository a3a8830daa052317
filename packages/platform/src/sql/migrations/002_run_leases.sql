-- A worker owns a running run through a lease it renews while it works. A run whose lease has
-- expired (its worker died) may be claimed by another worker, which resumes after the last step
-- recorded as completed.
ALTER TABLE runs ADD COLUMN lease_owner text;
ALTER TABLE runs ADD COLUMN lease_expires_at timestamptz;
-- Executions started (claims), so a run that keeps killing its workers is visible.
ALTER TABLE runs ADD COLUMN executions integer NOT NULL DEFAULT 0;

-- The reconciler looks only at unfinished runs: a small partial index however large history grows.
CREATE INDEX runs_unfinished_idx ON runs (status, updated_at) WHERE status IN ('pending', 'running');
-- The reconciler skips runs that already have a message waiting in the outbox.
CREATE INDEX outbox_key_idx ON outbox (key);
