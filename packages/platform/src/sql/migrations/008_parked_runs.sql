-- A run waiting longer than PARK_AFTER_MS (a long delay or backoff, a signal, a child run) is
-- parked: still `running`, but with no lease owner and no lease expiry, so no worker holds it and
-- neither a claim nor the reconciler takes it. `wake_at` is when the timer service hands it back to
-- Kafka: its due time, or now() when what it waits for arrives (a signal, a child's end). The
-- timer gives it an expired lease as it publishes, so a lost message is adopted by the reconciler.
ALTER TABLE runs ADD COLUMN wake_at timestamptz;
-- The timer's scan: only parked runs that have a wake-up time, oldest first.
CREATE INDEX runs_wake_idx ON runs (wake_at) WHERE wake_at IS NOT NULL;
