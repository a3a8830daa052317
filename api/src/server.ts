import { createServices, loadConfigOrExit } from "@wf/domain";
import { drainOnSignals, startOrExit } from "@wf/domain/process/lifecycle";
import pkg from "../package.json" with { type: "json" };
import { createApp } from "./app.ts";
import { SERVER_BODY_CUTOFF } from "./http/json-body.ts";

// One API replica. `main.ts` runs API_REPLICAS of these on one port (SO_REUSEPORT).
const config = loadConfigOrExit("api");

const services = createServices(config, "bun");
const log = services.log;
await startOrExit(services);

const app = createApp(services, {
  name: "workflow-service",
  version: pkg.version,
  runtime: "bun",
  runtime_version: Bun.version,
}).listen({
  hostname: config.host,
  port: config.port,
  idleTimeout: config.idleTimeoutS,
  // Out of the way: json-body.ts answers an oversized body with a problem+json 413 itself.
  maxRequestBodySize: SERVER_BODY_CUTOFF,
});

log.info("api replica listening", { port: app.server?.port, pid: process.pid });

drainOnSignals(services, config.drainMs, () => app.stop(false));
