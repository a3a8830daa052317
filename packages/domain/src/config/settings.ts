import { EgressPolicy } from "../engine/egress.ts";
import { bool, countOrAuto, hostPort, int, list, oneOf, str, url, type Reader } from "./parse.ts";

const egressEntry: Reader<string> = (raw) =>
  EgressPolicy.isEntry(raw) ? { ok: true, value: raw } : { ok: false, expected: "a hostname, an IP address or a CIDR range" };

/**
 * Every setting of the service, its environment variable, default and meaning, in one table.
 * The README's configuration section is generated from this list (`bun run config:doc`), so the
 * documentation cannot drift from what the code reads.
 */
interface Setting<T> {
  env: string;
  default: string;
  read: Reader<T>;
  doc: string;
}

const setting = <T>(env: string, def: string, read: Reader<T>, doc: string): Setting<T> => ({ env, default: def, read, doc });

export const settings = {
  host: setting("HOST", "0.0.0.0", str(), "Interface the HTTP server binds."),
  port: setting("PORT", "3000", int(0, 65535), "HTTP port (replicas share it with SO_REUSEPORT)."),
  idleTimeoutS: setting(
    "HTTP_IDLE_TIMEOUT_S",
    "120",
    int(0, 255),
    "Seconds a connection may stay idle, and a queued request may wait, before Bun closes it (0 = never).",
  ),
  apiReplicas: setting("API_REPLICAS", "auto", countOrAuto(256), "API processes `bun run api` starts on PORT (auto = one per core)."),
  drainMs: setting(
    "API_DRAIN_MS",
    "1500",
    int(0, 60_000),
    "On SIGTERM, how long a replica keeps serving with `connection: close` and readiness 503 before it stops listening.",
  ),
  bodyLimitBytes: setting("BODY_LIMIT_BYTES", "1048576", int(1024, 64 * 1024 * 1024), "Largest accepted request body; larger is a 413."),

  databaseUrl: setting(
    "DATABASE_URL",
    "postgres://wf:wf@127.0.0.1:6432/wf",
    url("postgres:", "postgresql:"),
    "PostgreSQL for queries; by default PgBouncer in transaction mode.",
  ),
  databaseDirectUrl: setting(
    "DATABASE_DIRECT_URL",
    "postgres://wf:wf@127.0.0.1:5432/wf",
    url("postgres:", "postgresql:"),
    "PostgreSQL itself, bypassing PgBouncer: used for migrations (session-level advisory lock).",
  ),
  dbPoolSize: setting("DB_POOL_SIZE", "20", int(1, 1000), "Connections per process in the query pool."),
  dbPrepare: setting(
    "DB_PREPARE",
    "false",
    bool,
    "Use named prepared statements. Must stay false through PgBouncer < 1.21 in transaction mode.",
  ),
  dbConnectTimeoutS: setting("DB_CONNECT_TIMEOUT_S", "5", int(1, 300), "Seconds to wait for a new database connection."),
  migrateOnStart: setting("MIGRATE_ON_START", "true", bool, "Apply pending SQL migrations when a process starts."),

  redisUrl: setting("REDIS_URL", "redis://127.0.0.1:6379", url("redis:", "rediss:"), "Redis for the read cache."),
  redisCommandTimeoutMs: setting(
    "REDIS_COMMAND_TIMEOUT_MS",
    "250",
    int(10, 60_000),
    "A cache command slower than this counts as a cache error and the request falls back to PostgreSQL.",
  ),
  workflowCacheTtlS: setting("CACHE_WORKFLOW_TTL_S", "60", int(1, 86_400), "TTL of cached workflows."),
  runCacheTtlS: setting("CACHE_RUN_TTL_S", "10", int(1, 86_400), "TTL of cached runs."),

  kafkaBrokers: setting("KAFKA_BROKERS", "127.0.0.1:9092", list(hostPort, 1), "Kafka bootstrap brokers (broker listener only)."),
  kafkaClientId: setting("KAFKA_CLIENT_ID", "workflow-service", str(), "Kafka client id."),
  runsTopic: setting("KAFKA_RUNS_TOPIC", "workflow-runs", str(), "Topic a triggered run is published to."),
  runsTopicPartitions: setting("KAFKA_RUNS_PARTITIONS", "3", int(1, 1000), "Partitions of the runs topic when the service creates it."),
  kafkaPublishTimeoutMs: setting(
    "KAFKA_PUBLISH_TIMEOUT_MS",
    "2000",
    int(50, 60_000),
    "How long a trigger waits for Kafka's ack; past it the run is left to the outbox relay and still answered 202.",
  ),
  outboxRelayIntervalMs: setting("OUTBOX_RELAY_INTERVAL_MS", "1000", int(50, 3_600_000), "How often the outbox relay looks for unpublished runs."),
  outboxGraceMs: setting(
    "OUTBOX_GRACE_MS",
    "5000",
    int(0, 3_600_000),
    "Age an outbox row must reach before the relay republishes it (longer than the publish timeout).",
  ),
  outboxBatchSize: setting("OUTBOX_BATCH_SIZE", "500", int(1, 10_000), "Rows the relay publishes per pass."),

  workerReplicas: setting("WORKER_REPLICAS", "3", int(1, 64), "Worker processes `bun run worker` starts (one consumer group)."),
  workerConcurrency: setting("WORKER_CONCURRENCY", "64", int(1, 10_000), "Runs one worker process executes at once."),
  workerGroupId: setting("WORKER_GROUP_ID", "workflow-workers", str(), "Kafka consumer group of the workers."),
  deadLetterTopic: setting("KAFKA_DEAD_LETTER_TOPIC", "workflow-runs.dlq", str(), "Where messages that cannot be processed go, with the reason."),
  runTimeoutMs: setting("RUN_TIMEOUT_MS", "300000", int(100, 86_400_000), "A run still going after this long is failed."),
  runLeaseMs: setting(
    "RUN_LEASE_MS",
    "15000",
    int(1000, 3_600_000),
    "How long a worker's claim on a run lasts without renewal; after it, another worker may resume the run.",
  ),
  cancelPollMs: setting("CANCEL_POLL_MS", "250", int(20, 60_000), "How often a worker checks whether its running runs were cancelled."),
  reconcileIntervalMs: setting("RECONCILE_INTERVAL_MS", "5000", int(100, 3_600_000), "How often workers look for abandoned runs."),
  pendingStaleMs: setting(
    "PENDING_STALE_MS",
    "120000",
    int(1000, 86_400_000),
    "A run pending this long with no message waiting is published again (its message was lost).",
  ),
  shutdownTimeoutMs: setting(
    "WORKER_SHUTDOWN_TIMEOUT_MS",
    "10000",
    int(0, 600_000),
    "On SIGTERM, how long in-flight runs may finish before they are handed back to the group.",
  ),
  httpStepTimeoutMs: setting("HTTP_STEP_TIMEOUT_MS", "10000", int(1, 600_000), "Timeout of an http step that sets none."),
  httpStepMaxResponseBytes: setting("HTTP_STEP_MAX_RESPONSE_BYTES", "1048576", int(0, 1 << 30), "Largest response body an http step reads."),
  egressAllow: setting(
    "EGRESS_ALLOW",
    "",
    list(egressEntry),
    "Hostnames, addresses or CIDR ranges http steps may reach although private, loopback or link-local (comma-separated).",
  ),

  cursorSecret: setting(
    "CURSOR_SECRET",
    "change-me-in-production-cursor-secret",
    str(16),
    "HMAC key that signs pagination cursors; the same on every replica.",
  ),
  readyRequires: setting(
    "READY_REQUIRES",
    "postgres",
    list(oneOf("postgres", "redis", "kafka")),
    "Dependencies whose outage turns /health/ready into a 503 (the others are reported only).",
  ),
  logLevel: setting("LOG_LEVEL", "info", oneOf("debug", "info", "warn", "error", "silent"), "Log verbosity."),
} as const;

type Settings = typeof settings;
export type Config = { [K in keyof Settings]: Settings[K] extends Setting<infer T> ? T : never };
