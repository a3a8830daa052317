/**
 * A peer whose engine is a library: one Node.js process holds the engine, the workflow and the HTTP
 * server that starts runs (app-http.ts), on the stack's PostgreSQL in a database of its own that is
 * made anew at each start. DBOS and graphile-worker are run this way; only their app and its
 * settings differ.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { assertPortsFree, type Child, httpOk, spawnChild, stopChild, waitUntil } from "./child.ts";
import { streamRun, syncTriggerFor } from "./client.ts";
import type { Peer, PeerName, PeerRun } from "./peer.ts";
import { recreateDatabase } from "./pg.ts";
import { DATA_DIR, nodeBinary } from "./settings.ts";

export interface AppPeerSpec {
  name: PeerName;
  version: string;
  database: string;
  port: number;
  /** The app's entry point (its app.ts). */
  app: string;
  /** The app's environment besides PORT. */
  env: Record<string, string>;
  /** Said in the log line once the app is started, after its pid. */
  note: string;
}

export function appPeer(spec: AppPeerSpec): Peer {
  const base = `http://127.0.0.1:${spec.port}`;
  let app: Child | undefined;
  let log: (line: string) => void = console.log;
  return {
    name: spec.name,
    version: spec.version,
    database: spec.database,
    syncTrigger: syncTriggerFor(`${base}/run`),
    async start(logLine) {
      log = logLine;
      await assertPortsFree([spec.port]);
      const dir = join(DATA_DIR, spec.name);
      mkdirSync(dir, { recursive: true });
      log(`${spec.name}: recreating database ${spec.database}`);
      await recreateDatabase(spec.database);
      const logPath = join(dir, "app.log");
      const started = spawnChild(`${spec.name} app`, [nodeBinary(), spec.app], {
        env: { ...spec.env, PORT: String(spec.port) },
        cwd: dir,
        logPath,
      });
      app = started;
      log(`${spec.name}: app started (pid ${started.pid}, ${spec.note}, log ${logPath})`);
      await waitUntil(`${spec.name} app`, () => httpOk(`${base}/health`), 60_000, [started]);
      await streamRun(`${base}/run-stream`, 1);
      log(`${spec.name}: a run completed: ready`);
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
