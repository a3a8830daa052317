-- Workflows: the definition a run is executed from. `version` goes up by one on every replace.
CREATE TABLE workflows (
  id          uuid PRIMARY KEY,
  name        text        NOT NULL,
  description text,
  steps       jsonb       NOT NULL,
  version     integer     NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);
-- Keyset pagination, newest first.
CREATE INDEX workflows_created_idx ON workflows (created_at DESC, id DESC);

-- Runs keep a copy of the steps they were triggered with, so replacing or deleting the workflow
-- afterwards changes neither what a pending run executes nor the history. No foreign key to
-- workflows for the same reason: a deleted workflow's runs stay.
CREATE TABLE runs (
  id               uuid PRIMARY KEY,
  workflow_id      uuid        NOT NULL,
  workflow_version integer     NOT NULL,
  definition       jsonb       NOT NULL,
  status           text        NOT NULL
                   CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
  input            jsonb       NOT NULL DEFAULT '{}'::jsonb,
  output           jsonb,
  error            text,
  steps            jsonb       NOT NULL DEFAULT '[]'::jsonb,
  idempotency_key  text,
  created_at       timestamptz NOT NULL,
  started_at       timestamptz,
  finished_at      timestamptz,
  updated_at       timestamptz NOT NULL
);
CREATE UNIQUE INDEX runs_idempotency_key_uq ON runs (idempotency_key) WHERE idempotency_key IS NOT NULL;
-- The reports' indexes, shaped for keyset pagination: by created time; composite status + created
-- (its leading column also serves "by status", so a separate status-only index would only slow
-- writes); by workflow.
CREATE INDEX runs_created_idx          ON runs (created_at DESC, id DESC);
CREATE INDEX runs_status_created_idx   ON runs (status, created_at DESC, id DESC);
CREATE INDEX runs_workflow_created_idx ON runs (workflow_id, created_at DESC, id DESC);

-- Transactional outbox: a run and its Kafka message are written in one statement; the message
-- row is deleted once Kafka has acknowledged it. Rows left behind (publish failed, process died)
-- are republished by the relay, so no run stays pending because a publish was lost.
CREATE TABLE outbox (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic      text        NOT NULL,
  key        text        NOT NULL,
  payload    jsonb       NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- Each relay reads only its own topic, oldest first.
CREATE INDEX outbox_topic_idx ON outbox (topic, id);
