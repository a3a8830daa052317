import { CursorCodec } from "@wf/core/pagination";
import { OutboxAcks, OutboxRelay } from "@wf/platform/bus";
import { definitionLimits } from "@wf/platform/config";
import { EgressPolicy } from "@wf/platform/egress";
import { HealthService } from "@wf/platform/health";
import type { Infrastructure } from "@wf/platform/infrastructure";
import { type Metrics, registerApiMetrics, registerReplicaMetrics } from "@wf/platform/observability";
import { guarded } from "@wf/platform/resilience";
import { keyringFromConfig } from "@wf/platform/secrets";
import { createSql, isDatabaseOutage, ReadReplica, type ReadRoutes, readRouted, type Sql } from "@wf/platform/sql";
import { AccessControl } from "./access/access.ts";
import { ApiKeys } from "./access/api-keys.ts";
import { KeyStore } from "./access/key-store.ts";
import { RateLimiter } from "./access/rate-limiter.ts";
import { RunEvents } from "./runs/events/run-events.ts";
import { RunService } from "./runs/service.ts";
import { RunStore } from "./runs/store.ts";
import { ScheduleService } from "./schedules/service.ts";
import { ScheduleStore } from "./schedules/store.ts";
import { SecretService } from "./secrets/service.ts";
import { SecretStore } from "./secrets/store.ts";
import { WebhookService } from "./webhooks/service.ts";
import { WebhookStore } from "./webhooks/store.ts";
import { WorkflowService } from "./workflows/service.ts";
import { WorkflowStore } from "./workflows/store.ts";

/** What an API process serves requests with: the shared infrastructure and the API's own services. */
export interface ApiServices extends Omit<Infrastructure, "metrics"> {
  relay: OutboxRelay;
  workflows: WorkflowService;
  runs: RunService;
  /** The runs' events streams (Server-Sent Events) served by this process. */
  runEvents: RunEvents;
  schedules: ScheduleService;
  webhooks: WebhookService;
  secrets: SecretService;
  health: HealthService;
  metrics: Metrics;
  /** Undefined unless DATABASE_READ_URL is set: lists and by-id reads then go to it (see readRouted). */
  replica?: ReadReplica;
  /** Undefined unless API_KEYS_REQUIRED: then every request passes, at no cost. */
  access?: AccessControl;
  /** Starts the infrastructure, then the API's loops (outbox relay, key refresh); the server may listen once it resolves. */
  start(): Promise<void>;
  /** Stops the API's loops, flushes, closes every connection. */
  close(): Promise<void>;
}

/**
 * The composition root of the API's services, shared by the Bun API and the Node reference: same
 * SQL, cache, producer and rules, so the two differ only in runtime and HTTP framework.
 */
export function createApiServices(infra: Infrastructure): ApiServices {
  const { config, log, sql, cache, publisher, breakers } = infra;
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
  const keyring = keyringFromConfig(config, (m) => log.warn(m));
  const secrets = new SecretService(guarded(new SecretStore(sql), breakers.postgres, isDatabaseOutage), keyring, cursors);
  const replica =
    config.databaseReadUrl === ""
      ? undefined
      : new ReadReplica(createSql(config, config.databaseReadUrl), {
          maxLagMs: config.dbReadMaxLagMs,
          timeoutMs: config.dbReadTimeoutMs,
          probeMs: 1000,
          onStateChange: (up, reason) =>
            up ? log.info("read replica usable", { reason }) : log.warn("read replica unreachable: reads go to the primary", { reason }),
        });
  if (replica) registerReplicaMetrics(infra.metrics.registry, replica);
  /** A store on the primary behind its breaker, with its reads sent to the replica when there is one. */
  const store = <T extends object>(make: (sql: Sql) => T, routes: ReadRoutes<T>): T => {
    const primary = guarded(make(sql), breakers.postgres, isDatabaseOutage);
    return replica ? readRouted(primary, make(replica.sql), replica, routes) : primary;
  };
  // The event streams' reads (eventState, revisions) are not routed: they go to the primary.
  const runStore = store((db) => new RunStore(db), { byId: ["get"], lists: ["list"], writes: ["cancel", "cancelBatch", "signal"] });
  const runEvents = new RunEvents(runStore, log, {
    redisUrl: config.redisUrl,
    heartbeatMs: config.sseHeartbeatMs,
    pollMs: config.runEventsPollMs,
  });
  const apiMetrics = registerApiMetrics(infra.metrics.registry, () => ({
    relay: relay.stats,
    access: { limited: limiter?.stats.limited ?? 0, limiterErrors: limiter?.stats.errors ?? 0 },
  }));

  return {
    ...infra,
    relay,
    metrics: { ...infra.metrics, ...apiMetrics },
    access: keys && new AccessControl(keys, limiter, config.metricsRequireKey),
    workflows: new WorkflowService(
      store((db) => new WorkflowStore(db), {
        byId: ["get", "getVersion", "listVersions"],
        lists: ["list"],
        writes: ["replace", "delete"],
      }),
      cache,
      cursors,
      config.workflowCacheTtlS,
      definitionLimits(config),
      secrets,
    ),
    runEvents,
    runs: new RunService({
      store: runStore,
      cache,
      changes: infra.changes,
      cursors,
      publisher,
      acks,
      topic: config.runsTopic,
      ttlS: config.runCacheTtlS,
      limits: { maxInputBytes: config.triggerMaxInputBytes },
      bulkMaxRuns: config.bulkMaxRuns,
    }),
    schedules: new ScheduleService(
      store((db) => new ScheduleStore(db), { byId: ["get"], lists: ["list"], writes: ["replace", "delete"] }),
      cursors,
      { maxInputBytes: config.triggerMaxInputBytes },
      config.runsTopic,
    ),
    webhooks: new WebhookService(
      store((db) => new WebhookStore(db), { byId: ["get", "deliveries"], lists: ["list"], writes: ["delete"] }),
      cursors,
      new EgressPolicy(config.egressAllow),
      config.runsTopic,
      keyring,
    ),
    secrets,
    replica,
    health: new HealthService({ sql, cache, kafkaAdmin: infra.admin, replica }, config.readyRequires),
    async start() {
      await infra.start();
      await replica?.start();
      // Before listening: with keys required, an empty key set would refuse every request.
      await keys?.start();
      relay.start();
    },
    async close() {
      keys?.stop();
      limiter?.close();
      runEvents.close();
      await relay.stop();
      await acks.close();
      await replica?.close();
      await infra.close();
    },
  };
}
