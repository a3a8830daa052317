import { messageHeaders, type Span, type Tracing } from "@wf/platform/observability";
import type { FastifyInstance, FastifyRequest } from "fastify";

const spans = new WeakMap<FastifyRequest, Span>();

/**
 * A server span per request, named by method and route template, as the Bun API's Elysia hook
 * does. Without tracing no hook is added, so requests pay nothing for it.
 */
export function traceRequests(app: FastifyInstance, tracing: Tracing | undefined): void {
  if (!tracing) return;
  app.addHook("onRequest", (req, _reply, done) => {
    const path = req.url.split("?", 1)[0] ?? "/";
    spans.set(
      req,
      tracing.startServerSpan(req.method, path, (name) => {
        const v = req.headers[name];
        return Array.isArray(v) ? v[0] : v;
      }),
    );
    done();
  });
  app.addHook("onResponse", (req, reply, done) => {
    const span = spans.get(req);
    if (span) tracing.endServerSpan(span, req.method, req.routeOptions.url, reply.statusCode);
    done();
  });
}

/** The request's trace context as Kafka message headers; undefined when tracing is off. */
export const traceHeaders = (req: FastifyRequest): Record<string, string> | undefined => {
  const span = spans.get(req);
  return span && messageHeaders(span);
};
