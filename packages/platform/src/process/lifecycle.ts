import { connect } from "node:net";
import { errorFields, type Logger } from "../observability/logger.ts";

/** What a process starts and stops: its shared infrastructure and its own loops. */
export interface Lifecycle {
  log: Logger;
  /** Connects what the process needs and starts its loops. */
  start(): Promise<void>;
  /** Stops loops, flushes, closes every connection. */
  close(): Promise<void>;
}

/**
 * On SIGTERM or SIGINT, drain then exit 0: readiness turns 503 and answers carry
 * `connection: close` for `drainMs`, so balancers and keep-alive clients move to other replicas;
 * then the listener closes (in-flight requests finish) and the pools close. Shared by the Bun API
 * and the Node reference, so both stop the same way.
 */
export function drainOnSignals(
  services: Lifecycle & { health: { draining: boolean } },
  drainMs: number,
  closeServer: () => Promise<unknown>,
): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    services.health.draining = true;
    services.log.info("draining", { signal, drain_ms: drainMs });
    await new Promise((r) => setTimeout(r, drainMs));
    await closeServer();
    await services.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

/**
 * Whether something already answers on host:port. Replicas bind with SO_REUSEPORT, so a forgotten
 * process on the port would not fail with EADDRINUSE: it would silently take part of the traffic.
 * Supervisors check this before starting any replica.
 */
export function isPortServed(host: string, port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = connect({ host, port, timeout: 1000 });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Starts the services (migrations, Kafka, loops) or logs why not and exits 1. */
export async function startOrExit(services: Lifecycle, also: () => Promise<unknown> = async () => {}): Promise<void> {
  try {
    await services.start();
    await also();
  } catch (err) {
    services.log.error("start-up failed", { ...errorFields(err), stack: (err as Error).stack });
    await services.close().catch(() => {});
    process.exit(1);
  }
}
