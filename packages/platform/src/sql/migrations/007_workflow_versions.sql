-- Every version of a workflow's definition, as its create or one of its replaces wrote it; the
-- workflows row is the current one. Each is written in the same statement as the workflows row.
-- Runs keep their own copy of the steps they execute (runs.definition), so nothing here is needed
-- to run them. No foreign key: its check would cost every create a lookup and a row lock. A delete
-- removes the versions in its own statement, and every read reaches versions through the
-- workflows row, so none is ever shown without its workflow.
CREATE TABLE workflow_versions (
  workflow_id uuid        NOT NULL,
  version     integer     NOT NULL,
  name        text        NOT NULL,
  description text,
  steps       jsonb       NOT NULL,
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (workflow_id, version)
);

-- Versions replaced before this migration were never stored: each workflow's history starts with
-- its current version, written when the workflow was last created or replaced.
INSERT INTO workflow_versions (workflow_id, version, name, description, steps, created_at)
SELECT id, version, name, description, steps, updated_at FROM workflows;
