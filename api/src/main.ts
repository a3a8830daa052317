import { join } from "node:path";
import { loadConfigOrExit } from "@wf/platform/config";
import { createLogger } from "@wf/platform/observability";
import { apiScrapeTargets, isPortServed, supervise } from "@wf/platform/process";

// `bun run api`: API_REPLICAS replicas of server.ts on one port, restarted when one dies.
const config = loadConfigOrExit("api");
const log = createLogger(config.logLevel, { component: "api-supervisor" });
const host = config.host === "0.0.0.0" ? "127.0.0.1" : config.host;

// Replicas share the port (SO_REUSEPORT): a stale process there would silently take traffic.
const taken = await isPortServed(host, config.port);
if (taken) {
  log.error(`port ${config.port} is already served by another process; stop it (ss -ltnp 'sport = :${config.port}') or set PORT`);
  process.exit(1);
}

supervise({
  name: "api",
  replicas: config.apiReplicas,
  command: [process.execPath, join(import.meta.dir, "server.ts")],
  log,
  stopTimeoutMs: config.drainMs + 15_000,
  scrapeTargets: config.prometheusSdDir
    ? {
        dir: config.prometheusSdDir,
        name: `api-${config.port}`,
        targets: apiScrapeTargets(host, config.port, config.apiReplicas, config.apiMetricsPort, log),
      }
    : undefined,
});
log.info("api starting", {
  replicas: config.apiReplicas,
  url: `http://${host}:${config.port}`,
  swagger: `http://${host}:${config.port}/swagger`,
});
