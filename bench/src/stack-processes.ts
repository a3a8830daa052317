/**
 * The stack's own processes on this machine, found by the ports the configuration points at, so
 * that the report can split the CPU the rest of the machine used during a flow by service. A
 * service elsewhere (not on loopback) or not listening is left out, and so is PgBouncer when the
 * configuration talks to PostgreSQL directly.
 */
import type { Config } from "@wf/platform/config";
import { listenerPids } from "@wf/platform/process";
import { STACK_SERVICES, type StackService } from "./results.ts";

export type StackPids = Partial<Record<StackService, number>>;

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** The port of a URL or host:port on this machine, or undefined when it names another host. */
export function localPort(address: string, defaultPort: number): number | undefined {
  const u = new URL(address.includes("://") ? address : `tcp://${address}`);
  if (!LOOPBACK.has(u.hostname)) return undefined;
  return u.port ? Number(u.port) : defaultPort;
}

/** Where each service listens, per the configuration (undefined: not on this machine). */
export function stackPorts(
  config: Pick<Config, "databaseUrl" | "databaseDirectUrl" | "redisUrl" | "kafkaBrokers">,
): Record<StackService, number | undefined> {
  const postgres = localPort(config.databaseDirectUrl, 5432);
  const pooled = localPort(config.databaseUrl, 5432);
  return {
    postgres,
    pgbouncer: pooled === postgres ? undefined : pooled,
    redis: localPort(config.redisUrl, 6379),
    kafka: config.kafkaBrokers.map((b) => localPort(b, 9092)).find((p) => p !== undefined),
  };
}

/** The process listening on each service's port: PostgreSQL's postmaster, whose children are its backends. */
export function findStackPids(ports: Record<StackService, number | undefined>, find: (port: number) => number[] = listenerPids): StackPids {
  const pids: StackPids = {};
  for (const s of STACK_SERVICES) {
    const port = ports[s];
    const pid = port === undefined ? undefined : find(port)[0];
    if (pid !== undefined) pids[s] = pid;
  }
  return pids;
}
