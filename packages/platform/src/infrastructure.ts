import type { Dependency } from "@wf/core/errors";
import type { Admin, Kafka } from "kafkajs";
import { createKafka, ensureTopic, topicReplication } from "./bus/kafka.ts";
import { Publisher } from "./bus/publisher.ts";
import { Cache } from "./cache/cache.ts";
import { createRedis } from "./cache/redis-client.ts";
import { RunChanges } from "./changes/run-changes.ts";
import type { Config } from "./config/settings.ts";
import { createLogger, errorFields, type Logger } from "./observability/logger.ts";
import { createMetrics, type ProcessMetrics } from "./observability/metrics.ts";
import { createTracing, type Tracing } from "./observability/tracing.ts";
import { Breaker } from "./resilience/breaker.ts";
import { createSql, type Sql } from "./sql/client.ts";
import { migrate } from "./sql/migrate.ts";
import { isDatabaseOutage } from "./sql/outage.ts";

export interface Breakers {
  postgres: Breaker;
  redis: Breaker;
  kafka: Breaker;
}

/** What every process of the service shares: connections, breakers, metrics, tracing. */
export interface Infrastructure {
  config: Config;
  log: Logger;
  sql: Sql;
  cache: Cache;
  kafka: Kafka;
  admin: Admin;
  publisher: Publisher;
  /** Tells the API replicas' event streams that runs changed (Redis pub/sub, fire and forget). */
  changes: RunChanges;
  breakers: Breakers;
  metrics: ProcessMetrics;
  /** Undefined unless OTEL_EXPORTER_OTLP_ENDPOINT is set: then nothing traces and nothing is paid. */
  tracing?: Tracing;
  /** Applies migrations (unless MIGRATE_ON_START=false) and connects the producer. */
  start(): Promise<void>;
  /** Closes every connection; tracing last, once nothing can end a span any more. */
  close(): Promise<void>;
}

/**
 * Builds the shared infrastructure; each process's composition root (the API's, the worker's, the
 * Node reference's) adds only what that process uses.
 */
export function createInfrastructure(config: Config, runtime: string, log: Logger = createLogger(config.logLevel)): Infrastructure {
  const sql = createSql(config);
  const breaker = (dependency: Dependency, isOutage: (err: unknown) => boolean, timeoutMs = 0) =>
    new Breaker(dependency, { failures: config.breakerFailures, openMs: config.breakerOpenMs, timeoutMs }, isOutage, log);
  const everyError = () => true;
  const breakers: Breakers = {
    postgres: breaker("postgres", isDatabaseOutage, config.dbQueryTimeoutMs),
    redis: breaker("redis", everyError),
    kafka: breaker("kafka", everyError, config.kafkaPublishTimeoutMs),
  };
  const cache = new Cache(config, breakers.redis);
  const changes = new RunChanges(createRedis(config));
  const kafka = createKafka(config, log);
  const admin = kafka.admin();
  const publisher = new Publisher(
    kafka,
    log,
    config.kafkaPublishTimeoutMs,
    breakers.kafka,
    async () => {
      await admin.connect();
      await ensureTopic(admin, config.runsTopic, config.runsTopicPartitions, log, topicReplication(config));
    },
    config.kafkaIdempotent,
  );
  const metrics = createMetrics(runtime, () => ({
    cache: cache.stats,
    publisher: publisher.stats,
    breakers: Object.values(breakers),
    db: { inFlight: breakers.postgres.inFlight, poolSize: config.dbPoolSize },
  }));
  publisher.observeSend = (seconds, ok) => metrics.kafkaProduce.observe({ outcome: ok ? "acked" : "failed" }, seconds);
  const tracing = createTracing(config, runtime);

  return {
    config,
    log,
    sql,
    cache,
    kafka,
    admin,
    publisher,
    changes,
    breakers,
    metrics,
    tracing,
    async start() {
      if (config.migrateOnStart) await migrateWithRetries(config, log);
      await publisher.start();
    },
    async close() {
      await publisher.close();
      await admin.disconnect().catch((err) => log.warn("kafka admin disconnect failed", errorFields(err)));
      await cache.close();
      changes.close();
      await sql.end({ timeout: 5 });
      // A collector that is down delays the exit by at most the exporter's timeout, never fails it.
      await tracing?.shutdown().catch((err) => log.warn("could not flush traces", errorFields(err)));
    },
  };
}

/**
 * Each attempt on a fresh direct connection: replicas start together under load, and a transaction
 * that lost its connection (the driver can fail a BEGIN that way) is simply tried again.
 */
async function migrateWithRetries(config: Config, log: Logger): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const direct = createSql(config, config.databaseDirectUrl, 1);
    try {
      const applied = await migrate(direct, (l) => log.info(l));
      if (applied.length > 0) log.info("migrations applied", { applied });
      return;
    } catch (err) {
      if (attempt >= 5) throw err;
      log.warn("migrations failed; retrying", { ...errorFields(err), attempt });
      await new Promise((r) => setTimeout(r, 500 * attempt));
    } finally {
      await direct.end();
    }
  }
}
