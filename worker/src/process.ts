import { hostname } from "node:os";
import { createKafka, ensureTopic, topicReplication, waitForGroupCoordinator } from "@wf/platform/bus";
import { loadConfigOrExit } from "@wf/platform/config";
import { EgressPolicy } from "@wf/platform/egress";
import { createInfrastructure } from "@wf/platform/infrastructure";
import { registerWorkerMetrics, serveMetrics } from "@wf/platform/observability";
import { startOrExit } from "@wf/platform/process";
import { keyringFromConfig } from "@wf/platform/secrets";
import { ExecutionStore, Reconciler, RunWaits, WaitingRuns } from "@wf/services/execution";
import { ScheduleTicker } from "@wf/services/schedules/ticker";
import { SecretReader } from "@wf/services/secrets/reader";
import { SecretStore } from "@wf/services/secrets/store";
import { Timers } from "@wf/services/timers";
import { WebhookDispatcher } from "@wf/services/webhooks/dispatcher";
import { BatchConsumer } from "./batch-consumer.ts";
import { RunExecutor } from "./run-executor.ts";
import { RunWatch } from "./run-watch.ts";

/** One worker process, a member of the consumer group that executes runs; its composition root. */
const config = loadConfigOrExit("worker");

const owner = `${hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`;
const infra = createInfrastructure(config, "bun");
const log = infra.log.child({ worker: owner });
const keyring = keyringFromConfig(config, (m) => log.warn(m));
const store = new ExecutionStore(infra.sql, owner, config.runLeaseMs, infra.changes);
const watch = new RunWatch(store, log, { pollMs: config.cancelPollMs, leaseMs: config.runLeaseMs });
const waiting = new WaitingRuns(infra.sql, log, config.runsTopic);
const { stepDuration, scheduleLag } = registerWorkerMetrics(infra.metrics.registry, () => ({
  runs: executor.stats,
  lag: consumer.lag,
  schedules: ticker.stats,
  webhooks: webhooks.stats,
  waiting: () => waiting.count(),
  lateness: () => waiting.lateness(),
}));
const executor = new RunExecutor(
  store,
  infra.cache,
  watch,
  log,
  config,
  infra.tracing,
  (type, status, seconds) => stepDuration.observe({ type, status }, seconds),
  new RunWaits(infra.sql, infra.publisher, config),
  new SecretReader(new SecretStore(infra.sql), keyring),
);
const kafka = createKafka(config, log, `${config.kafkaClientId}-worker`);
const consumer = new BatchConsumer(kafka, executor, infra.publisher, log, config, infra.tracing);
const reconciler = new Reconciler(infra.sql, infra.publisher, log, {
  topic: config.runsTopic,
  intervalMs: config.reconcileIntervalMs,
  pendingStaleMs: config.pendingStaleMs,
  leaseMs: config.runLeaseMs,
  batchSize: config.outboxBatchSize,
});
const timers = new Timers(infra.sql, infra.publisher, log, {
  topic: config.runsTopic,
  pollMs: config.timerPollMs,
  batchSize: config.outboxBatchSize,
});
const ticker = new ScheduleTicker(
  infra.sql,
  infra.publisher,
  log,
  { topic: config.runsTopic, pollMs: config.schedulePollMs, misfireMs: config.scheduleMisfireMs, batchSize: config.outboxBatchSize },
  (seconds) => scheduleLag.observe(seconds),
);
const webhooks = new WebhookDispatcher(
  infra.sql,
  new EgressPolicy(config.egressAllow),
  log,
  {
    topic: config.runsTopic,
    owner,
    pollMs: config.webhookPollMs,
    concurrency: config.webhookConcurrency,
    timeoutMs: config.webhookTimeoutMs,
    retry: { baseMs: config.webhookRetryBaseMs, maxAgeMs: config.webhookRetryMaxAgeMs },
  },
  keyring,
);

await startOrExit(infra, async () => {
  // First: they need only PostgreSQL (a run the ticker starts waits in the outbox until Kafka takes it).
  ticker.start();
  webhooks.start();
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopic(admin, config.deadLetterTopic, 1, log, topicReplication(config));
  await waitForGroupCoordinator(admin, config.workerGroupId, log);
  await admin.disconnect();
  watch.start();
  reconciler.start();
  timers.start();
  await consumer.start();
});
const metricsServer = serveMetrics(infra.metrics.registry, config.host, config.workerMetricsPort, config.replicaIndex, log);
log.info("worker consuming", {
  topic: config.runsTopic,
  group: config.workerGroupId,
  concurrency: config.workerConcurrency,
  pid: process.pid,
});

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info("worker draining", { signal, in_flight: watch.size });
  reconciler.stop();
  timers.stop();
  await ticker.stop();
  // Sends in flight are recorded while the runs drain (each bounded by WEBHOOK_TIMEOUT_MS).
  const webhooksStopped = webhooks.stop();
  await consumer.stop(
    config.shutdownTimeoutMs,
    () => watch.size,
    () => watch.abortAll("shutdown"),
  );
  watch.stop();
  await webhooksStopped;
  metricsServer?.stop();
  await infra.close();
  log.info("worker stopped", { ...executor.stats, dead_lettered: consumer.stats.deadLettered });
  process.exit(0);
}
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
