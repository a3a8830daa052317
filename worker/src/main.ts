import { join } from "node:path";
import { loadConfigOrExit } from "@wf/platform/config";
import { createLogger } from "@wf/platform/observability";
import { supervise } from "@wf/platform/process";

// `bun run worker`: WORKER_REPLICAS processes in one consumer group, restarted when they die.
const config = loadConfigOrExit("worker");
const host = config.host === "0.0.0.0" ? "127.0.0.1" : config.host;
const replicas = Array.from({ length: config.workerReplicas }, (_, i) => i);
supervise({
  name: "worker",
  replicas: config.workerReplicas,
  command: [process.execPath, join(import.meta.dir, "process.ts")],
  log: createLogger(config.logLevel, { component: "worker-supervisor" }),
  stopTimeoutMs: config.shutdownTimeoutMs + 15_000,
  // Each replica serves its own /metrics on WORKER_METRICS_PORT + its index.
  scrapeTargets:
    config.prometheusSdDir && config.workerMetricsPort > 0
      ? {
          dir: config.prometheusSdDir,
          name: `worker-${config.workerMetricsPort}`,
          targets: replicas.map((i) => ({
            address: `${host}:${config.workerMetricsPort + i}`,
            labels: { replica: String(i), group: config.workerGroupId, topic: config.runsTopic },
          })),
        }
      : undefined,
});
