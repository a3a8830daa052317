import { join } from "node:path";

const STACK = join(import.meta.dir, "../../infra/stack");

/** Stops or starts one real service through the project's own stack script. */
export function stack(action: "up" | "down", service: "postgres" | "pgbouncer" | "redis" | "kafka"): void {
  const r = Bun.spawnSync([STACK, action, service], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`infra/stack ${action} ${service} failed (${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
}
