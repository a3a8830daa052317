import { DEFAULT_MAX_INPUT_BYTES } from "@wf/core/runs";
import { DEFAULT_MAX_STRING_LENGTH, type DefinitionLimits, LIMITS } from "@wf/core/workflows";
import { EgressPolicy } from "../egress/egress.ts";
import { parseKeys } from "../secrets/keyring.ts";
import { bool, countOrAuto, hostPort, int, list, oneOf, orEmpty, type Reader, str, url } from "./parse.ts";

const egressEntry: Reader<string> = (raw) =>
  EgressPolicy.isEntry(raw) ? { ok: true, value: raw } : { ok: false, expected: "a hostname, an IP address or a CIDR range" };

/** SECRETS_KEYS: validated here, kept as its text (the keyring parses it where it is used). */
const secretKeys: Reader<string> = (raw) => {
  const r = parseKeys(raw);
  return r.ok ? { ok: true, value: raw } : { ok: false, expected: r.problem };
};

/**
 * Every setting of the service, its environment variable, default and meaning, in one table.
 * docs/configuration.md is generated from this list (`bun run config:doc`), so the
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
  listenBacklog: setting(
    "HTTP_LISTEN_BACKLOG",
    "4096",
    int(1, 65535),
    "Connections the kernel holds for the HTTP server until it accepts them (capped by net.core.somaxconn); a burst beyond it waits for its SYN to be sent again, a second or more.",
  ),
  apiReplicas: setting("API_REPLICAS", "auto", countOrAuto(256), "API processes `bun run api` starts on PORT (auto = one per core)."),
  apiMetricsPort: setting(
    "API_METRICS_PORT",
    "0",
    int(0, 65535),
    "API replica i also serves /metrics on this port + i, so that Prometheus scrapes each replica (PORT, shared, reaches one at random); 0 = only on PORT.",
  ),
  prometheusSdDir: setting(
    "PROMETHEUS_SD_DIR",
    "",
    str(0),
    "Directory where `bun run api` and `bun run worker` keep a Prometheus file_sd JSON file of their replicas' /metrics addresses (empty = none; `infra/stack env` names the stack's).",
  ),
  drainMs: setting(
    "API_DRAIN_MS",
    "1500",
    int(0, 60_000),
    "On SIGTERM, how long a replica keeps serving with `connection: close` and readiness 503 before it stops listening.",
  ),
  bodyLimitBytes: setting("BODY_LIMIT_BYTES", "1048576", int(1024, 64 * 1024 * 1024), "Largest accepted request body; larger is a 413."),
  bodyDrainBytes: setting(
    "BODY_DRAIN_BYTES",
    "8388608",
    int(0, 1024 * 1024 * 1024),
    "A body over BODY_LIMIT_BYTES but not over this is read and discarded before the 413 and the close, so a client that sends the whole body before reading (no `Expect: 100-continue`) gets the answer, not a broken pipe; a larger one is not read.",
  ),
  jsonMaxDepth: setting(
    "JSON_MAX_DEPTH",
    "32",
    int(5, 1000),
    "Deepest nesting of arrays and objects accepted in a request body (a workflow needs 5); deeper is a 400.",
  ),
  workflowMaxSteps: setting(
    "WORKFLOW_MAX_STEPS",
    "50",
    int(1, LIMITS.maxSteps),
    `Most steps a workflow may have (at most ${LIMITS.maxSteps}); more is a 422.`,
  ),
  workflowMaxNameLength: setting(
    "WORKFLOW_MAX_NAME_LENGTH",
    "200",
    int(1, LIMITS.maxNameLength),
    `Longest workflow name, in characters (at most ${LIMITS.maxNameLength}); longer is a 422.`,
  ),
  workflowMaxDescriptionLength: setting(
    "WORKFLOW_MAX_DESCRIPTION_LENGTH",
    "2000",
    int(0, LIMITS.maxDescriptionLength),
    `Longest workflow description, in characters (at most ${LIMITS.maxDescriptionLength}); longer is a 422.`,
  ),
  workflowMaxStringLength: setting(
    "WORKFLOW_MAX_STRING_LENGTH",
    String(DEFAULT_MAX_STRING_LENGTH),
    int(1, 64 * 1024 * 1024),
    "Longest string or key inside a step's config (URL, header, message, transform output), in characters; longer is a 422.",
  ),
  bulkMaxRuns: setting(
    "BULK_MAX_RUNS",
    "10000",
    int(1, 100_000),
    "Most runs one bulk action (POST /api/v1/runs/bulk/cancel, /bulk/replay) takes; more matching runs are left for the next call.",
  ),
  triggerMaxInputBytes: setting(
    "TRIGGER_MAX_INPUT_BYTES",
    String(DEFAULT_MAX_INPUT_BYTES),
    int(2, 64 * 1024 * 1024),
    "Largest `input` of a trigger, in bytes of its JSON; larger is a 422 (it is stored with the run and shown on every read).",
  ),

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
  databaseReadUrl: setting(
    "DATABASE_READ_URL",
    "",
    orEmpty(url("postgres:", "postgresql:")),
    "A streaming replica of DATABASE_URL's database (`infra/stack up replica`: its PgBouncer, port 6433) for the API's lists and by-id reads; a by-id read it cannot answer, and everything while it is down or too far behind, goes to the primary (docs/operations.md, \"Read replica\"). Empty = every read on the primary.",
  ),
  dbReadMaxLagMs: setting(
    "DB_READ_MAX_LAG_MS",
    "5000",
    int(100, 3_600_000),
    "Reads go to the replica only while it is at most this far behind (measured every second); also how long by-id reads of an entity an API process changed or deleted go to the primary.",
  ),
  dbReadTimeoutMs: setting(
    "DB_READ_TIMEOUT_MS",
    "1000",
    int(50, 60_000),
    "A replica read slower than this is asked of the primary instead, and the replica is set aside until its next probe answers.",
  ),
  dbPoolSize: setting("DB_POOL_SIZE", "20", int(1, 1000), "Connections per process in the query pool."),
  dbPrepare: setting(
    "DB_PREPARE",
    "true",
    bool,
    "Use named prepared statements (one round trip per query, no re-planning). Through PgBouncer in transaction mode this needs PgBouncer >= 1.21 with max_prepared_statements > 0, as infra/stack and docker-compose.yml run it; set false for an older PgBouncer.",
  ),
  dbConnectTimeoutS: setting("DB_CONNECT_TIMEOUT_S", "5", int(1, 300), "Seconds to wait for a new database connection."),
  dbQueryTimeoutMs: setting(
    "DB_QUERY_TIMEOUT_MS",
    "0",
    int(0, 600_000),
    "A request's database call slower than this (pool queue included) is answered 503 and counts towards opening the circuit. 0: no bound of its own; PgBouncer's query_wait_timeout (30 s) bounds a dead server.",
  ),
  migrateOnStart: setting("MIGRATE_ON_START", "true", bool, "Apply pending SQL migrations when a process starts."),

  redisUrl: setting("REDIS_URL", "redis://127.0.0.1:6379", url("redis:", "rediss:"), "Redis for the read cache."),
  redisCommandTimeoutMs: setting(
    "REDIS_COMMAND_TIMEOUT_MS",
    // Not tighter: under a 10k-user flow on 2 cores the busy event loop reads Redis's replies late,
    // and a tighter bound opened Redis's circuit with Redis up (bench/FINDINGS.md, "What moved the figures").
    "1000",
    int(10, 60_000),
    "A cache command slower than this counts as a cache error and the request falls back to PostgreSQL.",
  ),
  workflowCacheTtlS: setting("CACHE_WORKFLOW_TTL_S", "60", int(1, 86_400), "TTL of cached workflows."),
  runCacheTtlS: setting("CACHE_RUN_TTL_S", "10", int(1, 86_400), "TTL of cached runs."),
  sseHeartbeatMs: setting(
    "SSE_HEARTBEAT_MS",
    "15000",
    int(10, 600_000),
    "How often an open run events stream (GET /api/v1/runs/{id}/events) gets a `: ping` comment line, so proxies do not close it while it is idle.",
  ),
  runEventsPollMs: setting(
    "RUN_EVENTS_POLL_MS",
    "3000",
    int(50, 600_000),
    "How often an API replica compares the runs it streams events of with PostgreSQL, for a change whose Redis message was lost (pub/sub is at most once; Redis may be down).",
  ),

  kafkaBrokers: setting("KAFKA_BROKERS", "127.0.0.1:9092", list(hostPort, 1), "Kafka bootstrap brokers (broker listener only)."),
  kafkaClientId: setting("KAFKA_CLIENT_ID", "workflow-service", str(), "Kafka client id."),
  runsTopic: setting("KAFKA_RUNS_TOPIC", "workflow-runs", str(), "Topic a triggered run is published to."),
  runsTopicPartitions: setting("KAFKA_RUNS_PARTITIONS", "3", int(1, 1000), "Partitions of the runs topic when the service creates it."),
  kafkaReplicationFactor: setting(
    "KAFKA_REPLICATION_FACTOR",
    "1",
    int(1, 16),
    "Replicas of each topic the service creates (3 on the three-broker cluster; an existing topic is not changed).",
  ),
  kafkaMinInsyncReplicas: setting(
    "KAFKA_MIN_INSYNC_REPLICAS",
    "1",
    int(1, 16),
    "min.insync.replicas of each topic the service creates: replicas that must hold a message before acks=all answers (2 of 3 on the cluster: one broker may be down).",
  ),
  kafkaIdempotent: setting(
    "KAFKA_IDEMPOTENT",
    "false",
    bool,
    "Idempotent producers (one request in flight per broker, so a retried batch is never written twice); on with several brokers, where a leader change retries batches.",
  ),
  kafkaPublishTimeoutMs: setting(
    "KAFKA_PUBLISH_TIMEOUT_MS",
    "2000",
    int(50, 60_000),
    "How long a publish waits for Kafka's ack (behind the trigger's answer); past it the run is left to the outbox relay.",
  ),
  outboxRelayIntervalMs: setting(
    "OUTBOX_RELAY_INTERVAL_MS",
    "1000",
    int(50, 3_600_000),
    "How often the outbox relay looks for unpublished runs.",
  ),
  outboxGraceMs: setting(
    "OUTBOX_GRACE_MS",
    "30000",
    int(0, 3_600_000),
    "Age an outbox row must reach before the relay republishes it: longer than the publish timeout plus the wait of the row's delete for a database connection under load (at 10k users, seconds; a shorter grace republishes thousands of runs).",
  ),
  outboxBatchSize: setting("OUTBOX_BATCH_SIZE", "500", int(1, 10_000), "Rows the relay publishes per pass."),

  workerReplicas: setting("WORKER_REPLICAS", "3", int(1, 64), "Worker processes `bun run worker` starts (one consumer group)."),
  workerConcurrency: setting("WORKER_CONCURRENCY", "64", int(1, 10_000), "Runs one worker process executes at once."),
  workerCommitIntervalMs: setting(
    "WORKER_COMMIT_INTERVAL_MS",
    "1000",
    int(10, 60_000),
    "How often a worker commits the Kafka offsets of the messages it finished (off the fetch path; a crash redelivers at most this much, as no-ops).",
  ),
  workerMetricsPort: setting(
    "WORKER_METRICS_PORT",
    "9400",
    int(0, 65535),
    "Worker replica i serves /metrics on this port + i (0 = no metrics endpoint).",
  ),
  replicaIndex: setting("REPLICA_INDEX", "0", int(0, 255), "Set by the supervisors for each replica they start; not to be set by hand."),
  workerGroupId: setting("WORKER_GROUP_ID", "workflow-workers", str(), "Kafka consumer group of the workers."),
  deadLetterTopic: setting(
    "KAFKA_DEAD_LETTER_TOPIC",
    "workflow-runs.dlq",
    str(),
    "Where messages that cannot be processed go, with the reason.",
  ),
  runTimeoutMs: setting(
    "RUN_TIMEOUT_MS",
    "300000",
    int(100, 86_400_000),
    "A run still going this long after a worker took it (one execution; parked time is not counted) is failed. A workflow's timeout_ms, counted from the run's start, may end it sooner.",
  ),
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
  parkAfterMs: setting(
    "PARK_AFTER_MS",
    "5000",
    int(0, 3_600_000),
    "A wait longer than this (a delay, a retry backoff, a signal, a child run) parks the run in PostgreSQL and frees the worker; shorter ones wait in the worker.",
  ),
  childRunMaxDepth: setting(
    "CHILD_RUN_MAX_DEPTH",
    "10",
    int(1, 100),
    "How deep child runs may nest (a run started by a workflow step is one deeper than its parent); a workflow step that would go deeper fails. Stops a workflow that calls itself.",
  ),
  timerPollMs: setting(
    "TIMER_POLL_MS",
    "100",
    int(10, 60_000),
    "The longest each worker's timer service waits between two looks for runs that are due: parked ones (their delay is over, what they wait for arrived, their workflow's timeout is over) and pending ones (their run_at has come, or a concurrency slot came free). A wake-up time it already knows of is kept to the millisecond.",
  ),
  schedulePollMs: setting(
    "SCHEDULE_POLL_MS",
    "250",
    int(10, 60_000),
    "How often each worker's schedule ticker looks for schedules whose next tick has come (a tick starts at most this late, plus a pass).",
  ),
  scheduleMisfireMs: setting(
    "SCHEDULE_MISFIRE_MS",
    "5000",
    int(0, 3_600_000),
    "A schedule's tick found at most this late still starts its own run; ticks older than that were missed (no worker ran): together they start one run, for the latest of them.",
  ),
  shutdownTimeoutMs: setting(
    "WORKER_SHUTDOWN_TIMEOUT_MS",
    "10000",
    int(0, 600_000),
    "On SIGTERM, how long in-flight runs may finish before they are handed back to the group.",
  ),
  httpStepTimeoutMs: setting("HTTP_STEP_TIMEOUT_MS", "10000", int(1, 600_000), "Timeout of an http step that sets none."),
  httpStepMaxResponseBytes: setting(
    "HTTP_STEP_MAX_RESPONSE_BYTES",
    "1048576",
    int(0, 1 << 30),
    "Largest response body an http step reads.",
  ),
  egressAllow: setting(
    "EGRESS_ALLOW",
    "",
    list(egressEntry),
    "Hostnames, addresses or CIDR ranges http steps and webhooks may reach although private, loopback or link-local (comma-separated).",
  ),
  webhookTimeoutMs: setting(
    "WEBHOOK_TIMEOUT_MS",
    "10000",
    int(100, 120_000),
    "How long a webhook receiver has to answer one delivery attempt; a delivery taken by a worker that dies is sent again twice this long after it was taken.",
  ),
  webhookConcurrency: setting(
    "WEBHOOK_CONCURRENCY",
    "16",
    int(1, 1000),
    "Webhook deliveries each worker sends at once; more due ones wait for the next free place.",
  ),
  webhookPollMs: setting(
    "WEBHOOK_POLL_MS",
    "250",
    int(10, 60_000),
    "How often each worker's webhook dispatcher looks for due deliveries (sooner when it has free places and found a full batch).",
  ),
  webhookRetryBaseMs: setting(
    "WEBHOOK_RETRY_BASE_MS",
    "5000",
    int(1, 3_600_000),
    "The first retry of a failed webhook delivery; the next ones come 60, 360, 1440, 3600 and 7200 times this after each failure (5 s, 5 min, 30 min, 2 h, 5 h, 10 h by default), then every 7200 times this, each ±20 %.",
  ),
  webhookRetryMaxAgeMs: setting(
    "WEBHOOK_RETRY_MAX_AGE_MS",
    "86400000",
    int(0, 30 * 86_400_000),
    "A webhook delivery that fails once it is this old (from the run's end) is not retried any more: it has failed.",
  ),

  breakerFailures: setting(
    "BREAKER_FAILURES",
    "5",
    int(1, 10_000),
    "Consecutive failed calls to PostgreSQL, Redis or Kafka that open that dependency's circuit.",
  ),
  breakerOpenMs: setting(
    "BREAKER_OPEN_MS",
    "5000",
    int(100, 600_000),
    "How long an open circuit fails fast before one call probes the dependency again.",
  ),
  apiKeysRequired: setting(
    "API_KEYS_REQUIRED",
    "false",
    bool,
    "Require `authorization: Bearer <key>` on every /api/v1 route (keys: `bun run keys create <name>`).",
  ),
  apiKeysRefreshMs: setting(
    "API_KEYS_REFRESH_MS",
    "5000",
    int(100, 3_600_000),
    "How soon a created or revoked API key takes effect on every process.",
  ),
  metricsRequireKey: setting("METRICS_REQUIRE_KEY", "false", bool, "Also require an API key on /metrics (when API_KEYS_REQUIRED)."),
  rateLimitPerS: setting(
    "RATE_LIMIT_PER_S",
    "0",
    int(0, 1_000_000),
    "Requests per second each API key may make, shared by all replicas (0 = no limit).",
  ),
  rateLimitBurst: setting(
    "RATE_LIMIT_BURST",
    "100",
    int(1, 1_000_000),
    "Requests an API key may make at once before RATE_LIMIT_PER_S applies.",
  ),
  secretsKeys: setting(
    "SECRETS_KEYS",
    "",
    secretKeys,
    "Keys that encrypt secrets at rest (AES-256-GCM), `<id>:<base64 of 32 bytes>`, comma-separated; every one opens a value, new values use SECRETS_ACTIVE_KEY. Required when NODE_ENV=production; otherwise empty means a public development key, with a warning at start. Rotation: docs/secrets.md.",
  ),
  secretsActiveKey: setting(
    "SECRETS_ACTIVE_KEY",
    "",
    str(0),
    "Id of the SECRETS_KEYS key that encrypts new and rotated values; empty: the first one.",
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
  otlpEndpoint: setting(
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "",
    orEmpty(url("http:", "https:")),
    "OpenTelemetry collector (OTLP over HTTP); spans go to `<url>/v1/traces`. Empty: tracing off, at no cost.",
  ),
  otelServiceName: setting("OTEL_SERVICE_NAME", "workflow-service", str(), "`service.name` of the exported spans."),
} as const;

type Settings = typeof settings;
export type Config = { [K in keyof Settings]: Settings[K] extends Setting<infer T> ? T : never };

/**
 * Rules between settings, checked once all are read. Production is NODE_ENV=production (as the
 * Docker image sets it): there a missing encryption key stops the process instead of the public
 * development key.
 */
export function crossProblems(c: Config, env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  const keys = parseKeys(c.secretsKeys);
  const ids = keys.ok ? keys.keys.map((k) => k.id) : [];
  if (c.secretsActiveKey !== "" && !ids.includes(c.secretsActiveKey))
    problems.push(`SECRETS_ACTIVE_KEY=${JSON.stringify(c.secretsActiveKey)} is not valid: expected the id of one of the SECRETS_KEYS keys`);
  if (ids.length === 0 && env.NODE_ENV === "production")
    problems.push("SECRETS_KEYS is required when NODE_ENV=production: set <id>:<base64 of 32 bytes> (openssl rand -base64 32)");
  if (c.kafkaMinInsyncReplicas > c.kafkaReplicationFactor)
    problems.push(
      `KAFKA_MIN_INSYNC_REPLICAS=${c.kafkaMinInsyncReplicas} is not valid: at most KAFKA_REPLICATION_FACTOR (${c.kafkaReplicationFactor}), or no acks=all write could succeed`,
    );
  return problems;
}

/** The definition limits this configuration sets. */
export const definitionLimits = (c: Config): DefinitionLimits => ({
  maxSteps: c.workflowMaxSteps,
  maxNameLength: c.workflowMaxNameLength,
  maxDescriptionLength: c.workflowMaxDescriptionLength,
  maxStringLength: c.workflowMaxStringLength,
});
