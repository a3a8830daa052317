-- The run list's filters (status lists, workflow_id, schedule_id, parent_run_id, a created range)
-- and the bulk actions read one index each, in (created_at, id) order, whatever the statuses: a
-- list over several statuses is one ordered range scan per status, merged (see runPageSql). So the
-- indexes by workflow, schedule and parent put status second: the same number of indexes, each as
-- wide, so a trigger's insert writes no more than before. runs_status_created_idx serves status
-- alone, runs_created_idx no filter or a created range alone. A cancel's cascade still finds a
-- run's children by the parent index's leading column.
DROP INDEX IF EXISTS runs_workflow_created_idx;
CREATE INDEX runs_workflow_status_created_idx ON runs (workflow_id, status, created_at DESC, id DESC);
DROP INDEX IF EXISTS runs_schedule_created_idx;
CREATE INDEX runs_schedule_status_created_idx ON runs (schedule_id, status, created_at DESC, id DESC) WHERE schedule_id IS NOT NULL;
DROP INDEX IF EXISTS runs_parent_created_idx;
CREATE INDEX runs_parent_status_created_idx ON runs (parent_run_id, status, created_at DESC, id DESC) WHERE parent_run_id IS NOT NULL;
