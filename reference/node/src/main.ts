import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfigOrExit } from "@wf/platform/config";
import { createLogger } from "@wf/platform/observability";
import { apiScrapeTargets, isPortServed, supervise } from "@wf/platform/process";
import { nodeMetricsPort, nodePort, nodeReplicas } from "./settings.ts";

// `bun run api:node`: NODE_API_REPLICAS Node processes on NODE_PORT, restarted when one dies.
const config = loadConfigOrExit("api-node");
const port = nodePort();
const log = createLogger(config.logLevel, { component: "api-node-supervisor" });
const host = config.host === "0.0.0.0" ? "127.0.0.1" : config.host;

// Replicas share the port (SO_REUSEPORT): a stale process there would silently take traffic.
const taken = await isPortServed(host, port);
if (taken) {
  log.error(`port ${port} is already served by another process; stop it or set NODE_PORT`);
  process.exit(1);
}

const replicas = nodeReplicas();
supervise({
  name: "api-node",
  replicas,
  command: [process.execPath, join(dirname(fileURLToPath(import.meta.url)), "server.js")],
  log,
  stopTimeoutMs: config.drainMs + 15_000,
  scrapeTargets: config.prometheusSdDir
    ? { dir: config.prometheusSdDir, name: `node-${port}`, targets: apiScrapeTargets(host, port, replicas, nodeMetricsPort(), log) }
    : undefined,
});
log.info("api-node starting", {
  replicas,
  node: process.versions.node,
  url: `http://${host}:${port}`,
  swagger: `http://${host}:${port}/swagger`,
});
