import type { Logger, Metrics } from "@wf/platform/observability";
import { errorFields } from "@wf/platform/observability";

type Registry = Metrics["registry"];

/**
 * `/metrics` of one worker process, on `basePort + replica`: each replica of `bun run worker` is
 * its own scrape target (their counters must not be summed by a shared port's load balancing).
 * A taken port costs the metrics, never the worker.
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
  try {
    const server = Bun.serve({
      // HOST, as the API: 127.0.0.1 keeps it off other interfaces, a container needs 0.0.0.0.
      hostname,
      port,
      // Never Bun's development mode (its default unless NODE_ENV is "production"): it would answer a failed scrape with a stack trace.
      development: false,
      async fetch(req) {
        if (new URL(req.url).pathname !== "/metrics") return new Response("not found", { status: 404 });
        return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } });
      },
    });
    log.info("worker metrics listening", { port });
    return { stop: () => void server.stop(true) };
  } catch (err) {
    log.warn("worker metrics not served: the port is taken", { port, ...errorFields(err) });
    return undefined;
  }
}
