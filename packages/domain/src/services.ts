import type { Admin } from "kafkajs";
import { Cache } from "./cache/cache.ts";
import { createKafka, ensureTopic } from "./bus/kafka.ts";
import { OutboxAcks, OutboxRelay } from "./bus/outbox.ts";
import { Publisher } from "./bus/publisher.ts";
import type { Config } from "./config/settings.ts";
import { HealthService } from "./health/health.ts";
import { createLogger, errorFields, type Logger } from "./observability/logger.ts";
import { createMetrics, type Metrics } from "./observability/metrics.ts";
import { createTracing, type Tracing } from "./observability/tracing.ts";
import { CursorCodec } from "./pagination/cursor.ts";
import { RunService } from "./runs/service.ts";
import { RunStore } from "./runs/store.ts";
import { Breaker } from "./resilience/breaker.ts";
import { AccessControl } from "./auth/access.ts";
import { ApiKeys } from "./auth/api-keys.ts";
import { KeyStore } from "./auth/key-store.ts";
import { RateLimiter } from "./auth/rate-limiter.ts";
import { guarded } from "./resilience/guard.ts";
import { isDatabaseOutage } from "./sql/outage.ts";
import { createSql, type Sql } from "./sql/client.ts";
import type { Dependency } from "./errors.ts";
import { migrate } from "./sql/migrate.ts";
import { definitionLimits } from "./workflows/definition.ts";
import { WorkflowService } from "./workflows/service.ts";
import { WorkflowStore } from "./workflows/store.ts";

export interface Services {
  config: Config;
  log: Logger;
  sql: Sql;
  cache: Cache;
  publisher: Publisher;
  relay: OutboxRelay;
  workflows: WorkflowService;
  runs: RunService;
  health: HealthService;
  metrics: Metrics;
  /** Undefined unless API_KEYS_REQUIRED: then every request passes, at no cost. */
  access?: AccessControl;
  /** Undefined unless OTEL_EXPORTER_OTLP_ENDPOINT is set: then nothing traces and nothing is paid. */
  tracing?: Tracing;
  /** Connects Kafka and starts background loops; the HTTP server may listen once it resolves. */
  start(): Promise<void>;
  /** Stops background loops, flushes, closes every connection. */
  close(): Promise<void>;
}

/**
 * The composition root shared by the Bun API and the Node reference: same SQL, cache, producer and
 * rules, so the two differ only in runtime and HTTP framework.
 */
export function createServices(config: Config, runtime: string, log: Logger = createLogger(config.logLevel)): Services {
  const sql = createSql(config);
  const breaker = (dependency: Dependency, isOutage: (err: unknown) => boolean, timeoutMs = 0) =>
    new Breaker(dependency, { failures: config.breakerFailures, openMs: config.breakerOpenMs, timeoutMs }, isOutage, log);
  const everyError = () => true;
  const breakers = {
    postgres: breaker("postgres", isDatabaseOutage, config.dbQueryTimeoutMs),
    redis: breaker("redis", everyError),
    kafka: breaker("kafka", everyError, config.kafkaPublishTimeoutMs),
  };
  const cache = new Cache(config, breakers.redis);
  const kafka = createKafka(config, log);
  const admin: Admin = kafka.admin();
  const publisher = new Publisher(kafka, log, config.kafkaPublishTimeoutMs, breakers.kafka, async () => {
    await admin.connect();
    await ensureTopic(admin, config.runsTopic, config.runsTopicPartitions, log);
  });
  const acks = new OutboxAcks(sql, log);
  const relay = new OutboxRelay(sql, publisher, log, {
    topic: config.runsTopic,
    intervalMs: config.outboxRelayIntervalMs,
    graceMs: config.outboxGraceMs,
    batchSize: config.outboxBatchSize,
  });
  const cursors = new CursorCodec(config.cursorSecret);
  const keys = config.apiKeysRequired ? new ApiKeys(new KeyStore(sql), config.apiKeysRefreshMs, log) : undefined;
  const limiter = keys && config.rateLimitPerS > 0 ? new RateLimiter(config, config.rateLimitPerS, config.rateLimitBurst) : undefined;
  const metrics = createMetrics(runtime, () => ({
    cache: cache.stats,
    publisher: publisher.stats,
    relay: relay.stats,
    breakers: Object.values(breakers),
    db: { inFlight: breakers.postgres.inFlight, poolSize: config.dbPoolSize },
    access: { limited: limiter?.stats.limited ?? 0, limiterErrors: limiter?.stats.errors ?? 0 },
  }));
  publisher.observeSend = (seconds, ok) => metrics.kafkaProduce.observe({ outcome: ok ? "acked" : "failed" }, seconds);
  const tracing = createTracing(config, runtime);

  return {
    config,
    log,
    sql,
    cache,
    publisher,
    relay,
    metrics,
    access: keys && new AccessControl(keys, limiter, config.metricsRequireKey),
    tracing,
    workflows: new WorkflowService(guarded(new WorkflowStore(sql), breakers.postgres, isDatabaseOutage), cache, cursors, config.workflowCacheTtlS, definitionLimits(config)),
    runs: new RunService({
      store: guarded(new RunStore(sql), breakers.postgres, isDatabaseOutage),
      cache,
      cursors,
      publisher,
      acks,
      topic: config.runsTopic,
      ttlS: config.runCacheTtlS,
      limits: { maxInputBytes: config.triggerMaxInputBytes },
    }),
    health: new HealthService({ sql, cache, kafkaAdmin: admin }, config.readyRequires),
    async start() {
      // Each attempt on a fresh connection: replicas start together under load, and a transaction
      // that lost its connection (the driver can fail a BEGIN that way) is simply tried again.
      for (let attempt = 1; config.migrateOnStart; attempt++) {
        const direct = createSql(config, config.databaseDirectUrl, 1);
        try {
          const applied = await migrate(direct, (l) => log.info(l));
          if (applied.length > 0) log.info("migrations applied", { applied });
          break;
        } catch (err) {
          if (attempt >= 5) throw err;
          log.warn("migrations failed; retrying", { ...errorFields(err), attempt });
          await new Promise((r) => setTimeout(r, 500 * attempt));
        } finally {
          await direct.end();
        }
      }
      // Before listening: with keys required, an empty key set would refuse every request.
      await keys?.start();
      await publisher.start();
      relay.start();
    },
    async close() {
      keys?.stop();
      limiter?.close();
      await relay.stop();
      await publisher.close();
      await acks.close();
      await admin.disconnect().catch((err) => log.warn("kafka admin disconnect failed", errorFields(err)));
      await cache.close();
      await sql.end({ timeout: 5 });
      // Last, once nothing can end a span any more; a collector that is down delays the exit by
      // at most the exporter's timeout and never fails it.
      await tracing?.shutdown().catch((err) => log.warn("could not flush traces", errorFields(err)));
    },
  };
}
