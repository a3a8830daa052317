import { join } from "node:path";
import { loadConfigOrExit } from "@wf/platform/config";
import { createLogger } from "@wf/platform/observability";
import { supervise } from "@wf/platform/process";

// `bun run worker`: WORKER_REPLICAS processes in one consumer group, restarted when they die.
const config = loadConfigOrExit("worker");
supervise({
  name: "worker",
  replicas: config.workerReplicas,
  command: [process.execPath, join(import.meta.dir, "process.ts")],
  log: createLogger(config.logLevel, { component: "worker-supervisor" }),
  stopTimeoutMs: config.shutdownTimeoutMs + 15_000,
});
