-- Every trigger writes each index of runs and outbox once more, and the trigger insert is the
-- service's costliest statement. These two were redundant:
-- runs_status_created_idx (status, created_at, id) already serves the reconciler's lookups by status;
-- the outbox holds only messages in flight (a few hundred rows at most), scanned in microseconds.
DROP INDEX IF EXISTS runs_unfinished_idx;
DROP INDEX IF EXISTS outbox_key_idx;
