import { join } from "node:path";

const STACK = join(import.meta.dir, "../../infra/stack");

/**
 * Stops or starts one real service through the project's own stack script. Asynchronous on
 * purpose: the Bun API under test runs in this process, and a synchronous spawn would freeze it
 * for the seconds Kafka takes to stop, turning the test's own pause into the server's timeouts.
 * `env` may point it at another stack (STACK_DIR, ports).
 */
export async function stack(
  action: "up" | "down" | "replica-remove",
  service?: "postgres" | "pgbouncer" | "redis" | "kafka" | "replica" | "postgres-replica" | "pgbouncer-replica" | "kafka-cluster",
  env: Record<string, string> = {},
): Promise<void> {
  const p = Bun.spawn([STACK, action, ...(service ? [service] : [])], { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`infra/stack ${action} ${service ?? ""} failed (${code}):\n${out}\n${err}`);
}
