import { createServices, loadConfigOrExit } from "@wf/domain";
import { drainOnSignals, startOrExit } from "@wf/domain/process/lifecycle";
import pkg from "../package.json" with { type: "json" };
import { createApp } from "./app.ts";

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
  // Bun's own cut-off sits above ours so an oversized body still gets a problem+json 413.
  maxRequestBodySize: config.bodyLimitBytes + 64 * 1024,
});

log.info("api replica listening", { port: app.server?.port, pid: process.pid });

drainOnSignals(services, config.drainMs, () => app.stop(false));
