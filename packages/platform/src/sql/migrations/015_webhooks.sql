-- Webhooks: where to send which run events, signed with the webhook's secret (Standard Webhooks).
-- `secret` is needed in clear to sign (HMAC), so it cannot be hashed; it is shown once, on create.
-- `topic` is the runs topic of the API that stored it: only that worker group delivers it, as
-- schedules are ticked by their own group (tests and benches share one database).
CREATE TABLE webhooks (
  id          uuid PRIMARY KEY,
  url         text        NOT NULL,
  events      text[]      NOT NULL CHECK (
    cardinality(events) > 0 AND events <@ ARRAY['run.completed', 'run.failed', 'run.cancelled']::text[]
  ),
  workflow_id uuid,
  secret      text        NOT NULL,
  topic       text        NOT NULL,
  created_at  timestamptz NOT NULL
);
-- Keyset pagination, newest first.
CREATE INDEX webhooks_created_idx ON webhooks (created_at DESC, id DESC);

-- A time-ordered id minted by the database (PostgreSQL 15 has no uuidv7()): the unix time in
-- milliseconds in the first 48 bits, version 7, the rest random. Delivery rows are inserted by the
-- runs' terminal statements, where no client mints their ids.
CREATE FUNCTION wf_uuid_v7(at timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                                        PLACING substring(int8send(floor(extract(epoch FROM at) * 1000)::bigint) FROM 3)
                                        FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$$;

-- One event to send to one webhook: the outbox of webhooks. Inserted by the run's terminal write in
-- the same statement (see enqueueWebhooks), so a run never ends without its deliveries. The id is
-- the `webhook-id` of every attempt. No foreign key to webhooks: a terminal write must never fail
-- because a webhook was deleted meanwhile; deleting a webhook deletes its deliveries, and the
-- dispatcher drops any that a terminal write inserted at that very moment.
--
-- `next_attempt_at` is also the dispatcher's lease: taking a delivery moves it past the send's
-- timeout, so a delivery whose worker died mid-send is due again once that time has passed.
-- `attempt_log` holds each recorded attempt: {at, status | error, duration_ms, response}.
CREATE TABLE webhook_deliveries (
  id              uuid PRIMARY KEY,
  webhook_id      uuid        NOT NULL,
  event           text        NOT NULL,
  run_id          uuid        NOT NULL,
  -- The webhook's, copied: a delivery whose webhook was deleted meanwhile is still found, and dropped.
  topic           text        NOT NULL,
  status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts        integer     NOT NULL DEFAULT 0,
  attempt_log     jsonb       NOT NULL DEFAULT '[]'::jsonb,
  next_attempt_at timestamptz,
  lease_owner     text,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL
);
-- A webhook's deliveries, newest first.
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, created_at DESC, id DESC);
-- The dispatchers' scan: pending deliveries of a topic, soonest first. Partial: delivered and failed ones drop out.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (topic, next_attempt_at) WHERE status = 'pending';
