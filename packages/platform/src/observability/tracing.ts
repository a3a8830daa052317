import { hostname } from "node:os";
import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_SERVICE_NAME,
  ATTR_URL_PATH,
} from "@opentelemetry/semantic-conventions";
import type { Config } from "../config/settings.ts";

export type { Span } from "@opentelemetry/api";

/** Kafka message headers as clients hand them over: text or bytes, a key possibly repeated. */
export type HeaderValue = string | Uint8Array | ReadonlyArray<string | Uint8Array> | undefined;
export type MessageHeaders = Readonly<Record<string, HeaderValue>>;

// The messaging conventions are still incubating upstream (their constants live in an unstable
// entry point), so the few names used here are spelled out.
const MESSAGING_SYSTEM = "messaging.system";
const MESSAGING_OPERATION_TYPE = "messaging.operation.type";
const MESSAGING_DESTINATION_NAME = "messaging.destination.name";

// W3C trace context only: it is what every collector and language understands, and baggage is
// not used by this service.
const propagator = new W3CTraceContextPropagator();
const decoder = new TextDecoder();

const text = (v: string | Uint8Array): string => (typeof v === "string" ? v : decoder.decode(v));

const headersGetter: TextMapGetter<MessageHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const v = carrier[key];
    if (v === undefined) return undefined;
    if (typeof v === "string" || v instanceof Uint8Array) return text(v);
    return v.map(text);
  },
};

type HeaderLookup = (name: string) => string | null | undefined;
const lookupGetter: TextMapGetter<HeaderLookup> = {
  keys: () => [],
  get: (lookup, key) => lookup(key) ?? undefined,
};

/** The W3C trace context of `span` as message headers (`traceparent`, and `tracestate` when set). */
export function messageHeaders(span: Span): Record<string, string> {
  const out: Record<string, string> = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), out, { set: (c, k, v) => (c[k] = v) });
  return out;
}

/** The remote parent carried by message headers; the root context when there is none or it is malformed. */
export function contextFromHeaders(headers: MessageHeaders | undefined): Context {
  return headers ? propagator.extract(ROOT_CONTEXT, headers, headersGetter) : ROOT_CONTEXT;
}

/** Where OTLP/HTTP spans go for a collector's base URL, as the OTLP exporter spec derives it. */
export const tracesUrl = (endpoint: string): string => `${endpoint.replace(/\/+$/, "")}/v1/traces`;

/**
 * The process's tracer. Spans are parented explicitly (no context manager): there is no
 * auto-instrumentation to feed, and the same code runs on Bun and Node. Services hold
 * `Tracing | undefined`; undefined means tracing is off and callers create nothing at all.
 */
export class Tracing {
  private readonly tracer: Tracer;

  constructor(private readonly provider: TracerProvider) {
    this.tracer = provider.getTracer("workflow-service");
  }

  /** An HTTP server span, child of the caller's `traceparent` when it sends one; named once routed. */
  startServerSpan(method: string, path: string, header: HeaderLookup): Span {
    const parent = propagator.extract(ROOT_CONTEXT, header, lookupGetter);
    return this.tracer.startSpan(
      method,
      { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_URL_PATH]: path } },
      parent,
    );
  }

  /** Names the span by route template (never the raw path: ids would make every name unique) and ends it. */
  endServerSpan(span: Span, method: string, route: string | undefined, status: number): void {
    if (route) {
      span.updateName(`${method} ${route}`);
      span.setAttribute(ATTR_HTTP_ROUTE, route);
    }
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    // A 4xx is the client's mistake, not a failure of this server (HTTP semantic conventions).
    if (status >= 500) {
      span.setAttribute(ATTR_ERROR_TYPE, String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }

  /** Processing of one Kafka message, child of the producer's context carried in its headers. */
  startConsumerSpan(topic: string, headers: MessageHeaders | undefined, attributes: Attributes): Span {
    return this.tracer.startSpan(
      `process ${topic}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          [MESSAGING_SYSTEM]: "kafka",
          [MESSAGING_OPERATION_TYPE]: "process",
          [MESSAGING_DESTINATION_NAME]: topic,
          ...attributes,
        },
      },
      contextFromHeaders(headers),
    );
  }

  startChildSpan(name: string, parent: Span, attributes: Attributes): Span {
    return this.tracer.startSpan(name, { attributes }, trace.setSpan(ROOT_CONTEXT, parent));
  }

  /** Exports what is still buffered, then stops; a process calls it as it closes. */
  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

/** The tracer configured by OTEL_EXPORTER_OTLP_ENDPOINT, or undefined when it is empty (tracing off). */
export function createTracing(config: Pick<Config, "otlpEndpoint" | "otelServiceName">, runtime: string): Tracing | undefined {
  if (config.otlpEndpoint === "") return undefined;
  const exporter = new OTLPTraceExporter({ url: tracesUrl(config.otlpEndpoint) });
  return new Tracing(
    new TracerProvider({
      resource: resourceFromAttributes({
        [ATTR_SERVICE_NAME]: config.otelServiceName,
        [ATTR_SERVICE_INSTANCE_ID]: `${hostname()}:${process.pid}`,
        "process.runtime.name": runtime,
      }),
      // Batched: a request never waits for the collector, and one export carries many spans.
      spanProcessors: [new BatchSpanProcessor({ exporter })],
    }),
  );
}
