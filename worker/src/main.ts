import { createLogger } from "@wf/platform/observability";
import { loadConfigOrExit } from "@wf/platform/config";
import { supervise } from "@wf/platform/process";
import { join } from "node:path";

// `bun run worker`: WORKER_REPLICAS processes in one consumer group, restarted when they die.
const config = loadConfigOrExit("worker");
supervise({
  name: "worker",
  replicas: config.workerReplicas,
  command: [process.execPath, join(import.meta.dir, "process.ts")],
  log: createLogger(config.logLevel, { component: "worker-supervisor" }),
  stopTimeoutMs: config.shutdownTimeoutMs + 15_000,
});
