import type { Logger, Metrics } from "@wf/platform/observability";
import { logRequest, requestId } from "@wf/http";
import { Elysia } from "elysia";

// Kept beside the request, not read back from `set.headers`: an answer may take its headers out of
// `set` (http/large-json.ts).
const started = new WeakMap<Request, { t0: number; id: string }>();

/**
 * Per-request context for every route: an `x-request-id` (the client's, when it is sane) on every
 * response, `connection: close` while the process drains, and the request-duration metric
 * labelled by route template, not raw path, and the access-log line.
 */
export const requestContext = (metrics: Metrics, draining: () => boolean, log: Logger, debug: boolean) =>
  new Elysia({ name: "request-context" })
    .onRequest(({ request, set }) => {
      // While draining, clients are told to reconnect (to another replica) after this answer.
      if (draining()) set.headers.connection = "close";
      const id = requestId(request.headers.get("x-request-id"));
      set.headers["x-request-id"] = id;
      started.set(request, { t0: performance.now(), id });
      metrics.inFlight.inc();
    })
    .onAfterResponse({ as: "global" }, ({ request, route, set }) => {
      metrics.inFlight.dec();
      const start = started.get(request);
      if (start === undefined) return;
      const seconds = (performance.now() - start.t0) / 1000;
      metrics.httpDuration.observe({ method: request.method, route: route || "unmatched", status: String(set.status ?? 200) }, seconds);
      logRequest(log, debug, Number(set.status ?? 200), seconds, () => ({
        request_id: start.id,
        method: request.method,
        route: route || "unmatched",
      }));
    });
