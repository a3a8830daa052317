import { join } from "node:path";
import type { Subprocess } from "bun";

const PROCESS = join(import.meta.dir, "../../worker/src/process.ts");
const SUPERVISOR = join(import.meta.dir, "../../worker/src/main.ts");

export interface WorkerGroup {
  procs: Subprocess[];
  /** Starts one more worker of the group. */
  add(): Subprocess;
  /** SIGTERM (or the given signal) to all, waits for them to exit. */
  stopAll(signal?: NodeJS.Signals): Promise<void>;
}

// No metrics port unless a test asks: workers of different tests would compete for it. Runs other
// test files left pending are not adopted by a test's workers unless it asks: the reconciler leaves
// other topics' runs alone, but adopts those stored before runs recorded their topic (a database
// older than this rule), and their long delay steps would fill this group's concurrency.
export const workerEnv = (env: Record<string, string>) => ({
  ...process.env,
  LOG_LEVEL: "warn",
  WORKER_METRICS_PORT: "0",
  PENDING_STALE_MS: "86400000",
  ...env,
});

/** A consumer group of its own on a test API's runs topic (and that topic's dead-letter topic). */
export const groupEnv = (runsTopic: string, groupId: string): Record<string, string> => ({
  KAFKA_RUNS_TOPIC: runsTopic,
  KAFKA_DEAD_LETTER_TOPIC: `${runsTopic}.dlq`,
  WORKER_GROUP_ID: groupId,
});

/** Real worker processes (`worker/src/process.ts`), as `bun run worker` starts them. */
export function startWorkers(count: number, env: Record<string, string>): WorkerGroup {
  const procs: Subprocess[] = [];
  const add = () => {
    // as the supervisor numbers its replicas (each serves metrics on WORKER_METRICS_PORT + index)
    const env_ = workerEnv({ REPLICA_INDEX: String(procs.length), ...env });
    const p = Bun.spawn([process.execPath, PROCESS], { env: env_, stdout: "inherit", stderr: "inherit" });
    procs.push(p);
    return p;
  };
  for (let i = 0; i < count; i++) add();
  return {
    procs,
    add,
    async stopAll(signal = "SIGTERM") {
      for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill(signal);
      await Promise.all(procs.map((p) => p.exited));
    },
  };
}

export function startSupervisor(env: Record<string, string>): Subprocess<"ignore", "pipe", "pipe"> {
  return Bun.spawn([process.execPath, SUPERVISOR], { env: workerEnv({ ...env, LOG_LEVEL: "info" }), stdout: "pipe", stderr: "pipe" });
}
