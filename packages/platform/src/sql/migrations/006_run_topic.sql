-- The Kafka topic a run was published to. Deployments (or test groups) with different runs topics
-- may share one database, and a worker group's reconciler must republish only its own topic's runs:
-- adopting another topic's runs would execute them on the wrong workers. NULL: a run stored before
-- this column existed, whose topic is unknown, so any group may adopt it, as before.
-- No index: the reconciler's candidates are the few unfinished, stale runs (found by status), and the
-- topic only filters those; an index would cost every trigger insert one more write for nothing.
ALTER TABLE runs ADD COLUMN topic text;
