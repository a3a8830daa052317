-- Kafka headers of an outbox message (the trigger's W3C trace context), so a message the relay
-- publishes later still continues the trace of the request that triggered the run. NULL: none.
ALTER TABLE outbox ADD COLUMN headers jsonb;
