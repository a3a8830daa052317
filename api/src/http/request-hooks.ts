import { BadQuery, logRequest, requestId } from "@wf/http";
import { type Logger, type Metrics, messageHeaders, type Span, type Tracing } from "@wf/platform/observability";
import type { AccessControl } from "@wf/services/access";
import { Elysia, StatusMap } from "elysia";
import type { RouteScopes } from "./route-scopes.ts";

/**
 * The path of a request URL, without parsing it into a URL object: the hooks that need it run on
 * every request, before routing.
 */
export const pathOf = (url: string): string => {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const query = url.indexOf("?", start);
  return start < 0 ? "/" : url.slice(start, query < 0 ? undefined : query);
};

// Kept beside the request, not read back from `set.headers`: a response may take its headers out
// of `set` (responses.ts).
const started = new WeakMap<Request, { t0: number; id: string }>();

/**
 * Per-request context for every route: an `x-request-id` (the client's, when it is sane) on every
 * response, `connection: close` while the process drains, the request-duration metric labelled by
 * route template (not raw path), and the access-log line.
 */
export const requestContext = (metrics: Metrics, draining: () => boolean, log: Logger, debug: boolean) =>
  new Elysia({ name: "request-context" })
    .onRequest(({ request, set }) => {
      // While draining, clients are told to reconnect (to another replica) after this response.
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

const spans = new WeakMap<Request, Span>();

// Elysia lets a handler set the status by name ("Not Found") as well as by number.
const statusCode = (s: number | keyof typeof StatusMap | undefined): number => (typeof s === "number" ? s : s ? StatusMap[s] : 200);

/**
 * A server span per request, named by method and route template once routed. Without tracing the
 * plugin registers no hook, so requests pay nothing for it.
 */
export function requestTracing(tracing: Tracing | undefined) {
  const plugin = new Elysia({ name: "request-tracing" });
  if (!tracing) return plugin;
  return plugin
    .onRequest(({ request }) => {
      spans.set(
        request,
        tracing.startServerSpan(request.method, pathOf(request.url), (name) => request.headers.get(name)),
      );
    })
    .onAfterResponse({ as: "global" }, ({ request, route, set }) => {
      const span = spans.get(request);
      if (span) tracing.endServerSpan(span, request.method, route || undefined, statusCode(set.status));
    });
}

/** The request's trace context as Kafka message headers; undefined when tracing is off. */
export const traceHeaders = (request: Request): Record<string, string> | undefined => {
  const span = spans.get(request);
  return span && messageHeaders(span);
};

/**
 * API keys, rate limits and the scope each route declares, checked before the body is read.
 * Without API_KEYS_REQUIRED there is no hook at all, so the open configuration pays nothing per
 * request. `scopes` is asked only once every route is registered (at the first request).
 */
export const accessGuard = (access: AccessControl | undefined, scopes: () => RouteScopes) => {
  const plugin = new Elysia({ name: "access-guard" });
  if (!access) return plugin;
  return plugin.onRequest(async ({ request }) => {
    const path = pathOf(request.url);
    if (access.guards(path)) await access.admit(request.headers.get("authorization"), scopes().of(request.method, path));
  });
};

/**
 * For routes with a query schema, as a `beforeHandle`: a parameter given twice is a 400. Elysia
 * would keep the last value and Fastify (the Node reference) makes an array the schema refuses;
 * which value the client meant is not for the server to guess.
 */
export function singleValuedQuery({ request }: { request: Request }): void {
  const url = request.url;
  const q = url.indexOf("?");
  if (q < 0) return;
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const key of new URLSearchParams(url.slice(q + 1)).keys()) (seen.has(key) ? repeated : seen).add(key);
  if (repeated.size > 0) throw new BadQuery([...repeated].map((key) => ({ path: `/${key}`, message: "is given more than once" })));
}
