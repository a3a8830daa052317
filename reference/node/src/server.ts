import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfigOrExit } from "@wf/platform/config";
import { createInfrastructure } from "@wf/platform/infrastructure";
import { serveMetrics } from "@wf/platform/observability";
import { drainOnSignals, startOrExit } from "@wf/platform/process";
import { createApiServices } from "@wf/services/api-services";
// The service version the Bun API reports: one product, two runtimes (bundled in at build time).
import apiPackage from "../../../api/package.json" with { type: "json" };
import { createApp } from "./app.ts";
import { loadDocument } from "./contract.ts";
import { nodeMetricsPort, nodePort } from "./settings.ts";

// One Node reference replica; main.ts runs NODE_API_REPLICAS of them on NODE_PORT (SO_REUSEPORT).
const config = loadConfigOrExit("api-node");
const port = nodePort();
const here = dirname(fileURLToPath(import.meta.url));
const services = createApiServices(createInfrastructure(config, "node"));
const log = services.log;
await startOrExit(services);

const app = createApp(
  services,
  { name: "workflow-service", version: apiPackage.version, runtime: "node", runtime_version: process.versions.node },
  loadDocument(here),
);
// The same listen queue as the Bun API's (HTTP_LISTEN_BACKLOG): Node's default is 511.
await app.listen({ host: config.host, port, reusePort: true, backlog: config.listenBacklog } as never);
log.info("api-node replica listening", { port, pid: process.pid, backlog: config.listenBacklog });

serveMetrics(services.metrics.registry, config.host, nodeMetricsPort(), config.replicaIndex, log);

drainOnSignals(services, config.drainMs, () => app.close());
