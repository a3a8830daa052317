import { messageHeaders, type Span, type Tracing } from "@wf/platform/observability";
import { Elysia, StatusMap } from "elysia";
import { pathOf } from "./url-path.ts";

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
      spans.set(request, tracing.startServerSpan(request.method, pathOf(request.url), (name) => request.headers.get(name)));
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
