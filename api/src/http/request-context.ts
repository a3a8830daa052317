import type { Logger, Metrics } from "@wf/domain";
import { logRequest, requestId } from "@wf/http";
import { Elysia } from "elysia";

const started = new WeakMap<Request, number>();

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
      set.headers["x-request-id"] = requestId(request.headers.get("x-request-id"));
      started.set(request, performance.now());
      metrics.inFlight.inc();
    })
    .onAfterResponse({ as: "global" }, ({ request, route, set }) => {
      metrics.inFlight.dec();
      const t0 = started.get(request);
      if (t0 === undefined) return;
      const seconds = (performance.now() - t0) / 1000;
      metrics.httpDuration.observe({ method: request.method, route: route || "unmatched", status: String(set.status ?? 200) }, seconds);
      logRequest(log, debug, Number(set.status ?? 200), seconds, () => ({
        request_id: String(set.headers["x-request-id"]),
        method: request.method,
        route: route || "unmatched",
      }));
    });
