import { describe, expect, test } from "bun:test";
import { TraceFlags, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { ConfigError, loadConfig } from "../config/load.ts";
import { contextFromHeaders, createTracing, type MessageHeaders, messageHeaders, Tracing, tracesUrl } from "./tracing.ts";

const inMemory = () => {
  const exporter = new InMemorySpanExporter();
  const tracing = new Tracing(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
  return { exporter, tracing };
};

// What kafkajs hands a consumer: header values as Buffers.
const asKafkaHeaders = (h: Record<string, string>): MessageHeaders =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Buffer.from(v)]));

describe("trace context in message headers", () => {
  test("inject then extract gives back the same trace, span and sampling, as a remote parent", () => {
    const { tracing } = inMemory();
    const span = tracing.startServerSpan("POST", "/api/v1/trigger", () => undefined);
    const headers = messageHeaders(span);
    expect(Object.keys(headers)).toEqual(["traceparent"]);
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    for (const carrier of [headers, asKafkaHeaders(headers), { traceparent: [Buffer.from(headers.traceparent!)] }]) {
      const remote = trace.getSpanContext(contextFromHeaders(carrier));
      expect(remote).toEqual({
        traceId: span.spanContext().traceId,
        spanId: span.spanContext().spanId,
        traceFlags: TraceFlags.SAMPLED,
        isRemote: true,
      });
    }
  });

  test("a caller's tracestate travels along with its traceparent", () => {
    const { tracing } = inMemory();
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const span = tracing.startServerSpan("GET", "/", (name) => ({ traceparent, tracestate: "vendor=abc" })[name]);
    expect(span.spanContext().traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    const headers = messageHeaders(span);
    expect(headers.tracestate).toBe("vendor=abc");
    expect(trace.getSpanContext(contextFromHeaders(asKafkaHeaders(headers)))?.traceState?.get("vendor")).toBe("abc");
  });

  test("the consumer span is a child of the span that published the message", () => {
    const { tracing, exporter } = inMemory();
    const server = tracing.startServerSpan("POST", "/api/v1/trigger", () => undefined);
    const consumer = tracing.startConsumerSpan("runs", asKafkaHeaders(messageHeaders(server)), { "messaging.kafka.offset": 7 });
    const step = tracing.startChildSpan("step shape", consumer, { "workflow.step.type": "transform" });
    for (const s of [step, consumer]) s.end();
    tracing.endServerSpan(server, "POST", "/api/v1/trigger", 202);

    const [stepSpan, consumerSpan, serverSpan] = exporter.getFinishedSpans();
    const traceId = server.spanContext().traceId;
    expect([stepSpan, consumerSpan, serverSpan].map((s) => s!.spanContext().traceId)).toEqual([traceId, traceId, traceId]);
    expect(consumerSpan!.name).toBe("process runs");
    expect(consumerSpan!.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(consumerSpan!.attributes["messaging.system"]).toBe("kafka");
    expect(stepSpan!.parentSpanContext?.spanId).toBe(consumer.spanContext().spanId);
    expect(serverSpan!.name).toBe("POST /api/v1/trigger");
    expect(serverSpan!.attributes).toMatchObject({ "http.route": "/api/v1/trigger", "http.response.status_code": 202 });
  });

  test("no headers, or a malformed traceparent, start a new trace instead of failing", () => {
    const { tracing } = inMemory();
    for (const headers of [
      undefined,
      {},
      { traceparent: "garbage" },
      { traceparent: Buffer.from("00-00000000000000000000000000000000-b7ad6b7169203331-01") },
    ]) {
      expect(trace.getSpanContext(contextFromHeaders(headers))).toBeUndefined();
      const span = tracing.startConsumerSpan("runs", headers, {});
      expect(span.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
      span.end();
    }
  });
});

describe("configuration", () => {
  test("off unless OTEL_EXPORTER_OTLP_ENDPOINT is set", () => {
    const config = loadConfig({});
    expect(config.otlpEndpoint).toBe("");
    expect(createTracing(config, "bun")).toBeUndefined();
  });

  test("a malformed endpoint is refused, naming the variable", () => {
    for (const bad of ["localhost:4318", "not a url", "ftp://collector:4318"]) {
      try {
        loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: bad });
        throw new Error(`expected ${bad} to be refused`);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        const { problems } = err as ConfigError;
        expect(problems.length).toBe(1);
        expect(problems[0]).toStartWith(
          `OTEL_EXPORTER_OTLP_ENDPOINT=${JSON.stringify(bad)} is not valid: expected a URL with scheme http: or https:`,
        );
      }
    }
  });

  test("spans go to <endpoint>/v1/traces, with or without a trailing slash", async () => {
    expect(tracesUrl("http://collector:4318")).toBe("http://collector:4318/v1/traces");
    expect(tracesUrl("https://otel.example/base/")).toBe("https://otel.example/base/v1/traces");
    const tracing = createTracing(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1" }), "bun");
    expect(tracing).toBeInstanceOf(Tracing);
    await tracing!.shutdown();
  });
});
