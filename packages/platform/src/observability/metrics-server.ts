import { createServer } from "node:http";
import type { Logger } from "./logger.ts";
import { errorFields } from "./logger.ts";
import type { ProcessMetrics } from "./metrics.ts";

type Registry = ProcessMetrics["registry"];

/**
 * `/metrics` of one replica on a port of its own, `basePort + replica`: replicas that share a
 * port (the API's SO_REUSEPORT) or none (workers) are then each a scrape target, so Prometheus
 * never sums or mixes their counters. node:http, so the Node reference serves it the same way.
 * A taken port costs the metrics, never the process.
 */
export function serveMetrics(
  registry: Registry,
  hostname: string,
  basePort: number,
  replica: number,
  log: Logger,
): { stop(): void } | undefined {
  if (basePort === 0) return undefined;
  const port = basePort + replica;
  const server = createServer((req, res) => {
    if ((req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404).end("not found");
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (err) => {
        log.warn("metrics scrape failed", errorFields(err));
        res.writeHead(500).end("metrics failed");
      },
    );
  });
  server.on("error", (err) => log.warn("metrics not served: the port is taken", { port, ...errorFields(err) }));
  // HOST, as the API: 127.0.0.1 keeps it off other interfaces, a container needs 0.0.0.0.
  server.listen(port, hostname, () => log.info("metrics listening", { port }));
  return { stop: () => void server.close() };
}
