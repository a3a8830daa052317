import { cpSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "@wf/platform/config";
import { createLogger, idleApiMetrics } from "@wf/platform/observability";
import type { ApiServices } from "@wf/services/api-services";
import apiPackage from "../../../api/package.json" with { type: "json" };
import { createApp } from "../../../api/src/app.ts";

/**
 * Builds the Node reference: the OpenAPI document exported from the Bun API's own routes and `t`
 * schemas (so both servers validate with, and publish, the very same schemas), and the server
 * compiled to JavaScript for Node with `bun build --target=node`.
 */
const root = join(import.meta.dir, "..");
const dist = join(root, "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

// Only the route table is needed: handlers never run, so the services are not connected.
const config = loadConfig({});
const stub = {
  config,
  log: createLogger("warn"),
  health: { draining: false },
  metrics: idleApiMetrics("bun"),
} as unknown as ApiServices;
const app = createApp(stub, { name: "workflow-service", version: apiPackage.version, runtime: "bun", runtime_version: "" });
const doc = await (await app.handle(new Request("http://localhost/swagger/json"))).json();
await Bun.write(join(dist, "openapi.json"), JSON.stringify(doc));

const built = await Bun.build({
  entrypoints: [join(root, "src/main.ts"), join(root, "src/server.ts")],
  target: "node",
  format: "esm",
  outdir: dist,
  sourcemap: "linked",
});
if (!built.success) {
  for (const l of built.logs) console.error(l);
  process.exit(1);
}
// The platform reads its SQL migrations next to the module that applies them (sql/migrate.ts).
cpSync(join(root, "../../packages/platform/src/sql/migrations"), join(dist, "migrations"), { recursive: true });
console.log(`[node-reference] built ${built.outputs.length} file(s) into ${dist}`);
