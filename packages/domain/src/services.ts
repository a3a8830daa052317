import type { Admin } from "kafkajs";
import { Cache } from "./cache/cache.ts";
import { createKafka, ensureTopic } from "./bus/kafka.ts";
import { OutboxAcks, OutboxRelay } from "./bus/outbox.ts";
import { Publisher } from "./bus/publisher.ts";
import type { Config } from "./config/settings.ts";
import { HealthService } from "./health/health.ts";
import { createLogger, errorFields, type Logger } from "./observability/logger.ts";
import { createMetrics, type Metrics } from "./observability/metrics.ts";
import { CursorCodec } from "./pagination/cursor.ts";
import { RunService } from "./runs/service.ts";
import { RunStore } from "./runs/store.ts";
import { createSql, type Sql } from "./sql/client.ts";
import { migrate } from "./sql/migrate.ts";
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
  const cache = new Cache(config);
  const kafka = createKafka(config, log);
  const admin: Admin = kafka.admin();
  const publisher = new Publisher(kafka, log, config.kafkaPublishTimeoutMs, async () => {
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
  const metrics = createMetrics(runtime, () => ({ cache: cache.stats, publisher: publisher.stats, relay: relay.stats }));

  return {
    config,
    log,
    sql,
    cache,
    publisher,
    relay,
    metrics,
    workflows: new WorkflowService(new WorkflowStore(sql), cache, cursors, config.workflowCacheTtlS),
    runs: new RunService({
      store: new RunStore(sql),
      cache,
      cursors,
      publisher,
      acks,
      topic: config.runsTopic,
      ttlS: config.runCacheTtlS,
    }),
    health: new HealthService({ sql, cache, kafkaAdmin: admin }, config.readyRequires),
    async start() {
      if (config.migrateOnStart) {
        const direct = createSql(config, config.databaseDirectUrl, 1);
        try {
          const applied = await migrate(direct, (l) => log.info(l));
          if (applied.length > 0) log.info("migrations applied", { applied });
        } finally {
          await direct.end();
        }
      }
      await publisher.start();
      relay.start();
    },
    async close() {
      await relay.stop();
      await publisher.close();
      await acks.close();
      await admin.disconnect().catch((err) => log.warn("kafka admin disconnect failed", errorFields(err)));
      await cache.close();
      await sql.end({ timeout: 5 });
    },
  };
}
