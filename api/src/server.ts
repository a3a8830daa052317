import { loadConfigOrExit } from "@wf/platform/config";
import { createInfrastructure } from "@wf/platform/infrastructure";
import { serveMetrics } from "@wf/platform/observability";
import { drainOnSignals, startOrExit } from "@wf/platform/process";
import { createApiServices } from "@wf/services/api-services";
import pkg from "../package.json" with { type: "json" };
import { createApp } from "./app.ts";
import { tuneListenSockets } from "./listen-socket.ts";
import { serveOptions } from "./serve-options.ts";

// One API replica. `main.ts` runs API_REPLICAS of these on one port (SO_REUSEPORT).
const config = loadConfigOrExit("api");

const services = createApiServices(createInfrastructure(config, "bun"));
const log = services.log;
await startOrExit(services);

const app = createApp(services, {
  name: "workflow-service",
  version: pkg.version,
  runtime: "bun",
  runtime_version: Bun.version,
}).listen(serveOptions(config));

const port = app.server?.port ?? config.port;
const tuned = tuneListenSockets(port, config.listenBacklog);
if (tuned.ok)
  log.info("api replica listening", { port, pid: process.pid, backlog: config.listenBacklog, defer_accept_was_s: tuned.deferAcceptWas });
else log.warn("api replica listening with Bun's own backlog (512) and deferred accept", { port, pid: process.pid, reason: tuned.reason });

// Prometheus scrapes each replica here (API_METRICS_PORT + REPLICA_INDEX); PORT reaches one at random.
serveMetrics(services.metrics.registry, config.host, config.apiMetricsPort, config.replicaIndex, log);

// Open events streams would hold the server open: they end first, and their clients resume
// (Last-Event-ID) on another replica.
drainOnSignals(services, config.drainMs, () => {
  services.runEvents.close();
  return app.stop(false);
});
