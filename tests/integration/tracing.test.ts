import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { loadConfig } from "@wf/platform/config";
import { createInfrastructure } from "@wf/platform/infrastructure";
import { createApiServices } from "@wf/services/api-services";
import type { Subprocess } from "bun";
import { startApi, type TestApi, unique, waitFor } from "../support/api.ts";
import { readTopic } from "../support/kafka.ts";
import { collectLines, freePort, startApiReplicas } from "../support/replicas.ts";
import { startWorkers, type WorkerGroup } from "../support/workers.ts";

/**
 * One trace from the HTTP request to the steps: a real API process and a real worker export spans
 * over OTLP/HTTP (JSON) to a collector that this test runs, and the spans must form one tree.
 */
interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  service: string;
  runtime: string;
  attributes: Record<string, unknown>;
}

// OTLP span kinds, as numbers in OTLP/JSON.
const SERVER = 2;
const CONSUMER = 5;

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
type OtlpAttributes = Array<{ key: string; value: OtlpValue }> | undefined;

const plain = (v: OtlpValue): unknown => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? v.boolValue));
const attributes = (list: OtlpAttributes): Record<string, unknown> => Object.fromEntries((list ?? []).map((a) => [a.key, plain(a.value)]));
// OTLP/JSON carries ids as hex; accept base64 too, so a wrong encoding fails on ids, not on parsing.
const hex = (id: string | undefined): string => (!id ? "" : /^[0-9a-f]+$/.test(id) ? id : Buffer.from(id, "base64").toString("hex"));

const received: ReceivedSpan[] = [];
const contentTypes = new Set<string>();
const collector = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    if (req.method !== "POST" || new URL(req.url).pathname !== "/v1/traces") return new Response("not found", { status: 404 });
    contentTypes.add(req.headers.get("content-type") ?? "");
    const body = (await req.json()) as {
      resourceSpans?: Array<{
        resource?: { attributes?: OtlpAttributes };
        scopeSpans?: Array<{
          spans?: Array<{
            traceId: string;
            spanId: string;
            parentSpanId?: string;
            name: string;
            kind: number;
            attributes?: OtlpAttributes;
          }>;
        }>;
      }>;
    };
    for (const rs of body.resourceSpans ?? []) {
      const resource = attributes(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? [])
          received.push({
            traceId: hex(s.traceId),
            spanId: hex(s.spanId),
            parentSpanId: hex(s.parentSpanId),
            name: s.name,
            kind: s.kind,
            service: String(resource["service.name"]),
            runtime: String(resource["process.runtime.name"]),
            attributes: attributes(s.attributes),
          });
    }
    return Response.json({});
  },
});
const endpoint = `http://127.0.0.1:${collector.port}`;

const topic = unique("runs-tracing");
let base: string;
let api: Subprocess<"ignore", "pipe", "pipe">;
let workers: WorkerGroup;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  api = startApiReplicas(port, 1, {
    KAFKA_RUNS_TOPIC: topic,
    API_DRAIN_MS: "0",
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_SERVICE_NAME: "wf-test-api",
  });
  const lines = collectLines(api);
  workers = startWorkers(1, {
    KAFKA_RUNS_TOPIC: topic,
    KAFKA_DEAD_LETTER_TOPIC: `${topic}.dlq`,
    WORKER_GROUP_ID: unique("workers-tracing"),
    WORKER_SHUTDOWN_TIMEOUT_MS: "2000",
    OTEL_EXPORTER_OTLP_ENDPOINT: `${endpoint}/`,
    OTEL_SERVICE_NAME: "wf-test-worker",
  });
  await waitFor("the API to listen", async () => lines.some((l) => l.includes("api replica listening")), 30_000);
});
afterAll(async () => {
  await workers?.stopAll("SIGKILL");
  if (api && api.exitCode === null) {
    api.kill("SIGTERM");
    await api.exited;
  }
  collector.stop(true);
});

const post = async (url: string, path: string, body: unknown) => {
  const res = await fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
};

let workflowId: string;
/** Triggers the transform + log workflow through `url` and waits until the worker completed the run. */
async function completedRun(url: string): Promise<string> {
  if (!workflowId) {
    const wf = await post(base, "/api/v1/workflows", {
      name: unique("wf-traced"),
      steps: [
        { name: "shape", type: "transform", config: { output: { order: "{{input.order_id}}" } } },
        { name: "note", type: "log", config: { message: "order {{steps.shape.order}} traced" } },
      ],
    });
    expect(wf.status).toBe(201);
    workflowId = wf.body.id!;
  }
  const trigger = await post(url, "/api/v1/trigger", { workflow_id: workflowId, input: { order_id: "o-1" } });
  expect(trigger.status).toBe(202);
  const runId = trigger.body.run_id!;
  await waitFor(
    `run ${runId} to complete`,
    async () => (await (await fetch(`${url}/api/v1/runs/${runId}`)).json()).status === "completed",
    60_000,
    200,
  );
  return runId;
}

/** The spans of the trace a run's message carried, once the consumer span and both steps are in. */
function traceOf(runId: string): ReceivedSpan[] | undefined {
  const consumer = received.find((s) => s.kind === CONSUMER && s.attributes["messaging.kafka.message.key"] === runId);
  if (!consumer) return undefined;
  const spans = received.filter((s) => s.traceId === consumer.traceId);
  return spans.filter((s) => s.parentSpanId === consumer.spanId).length >= 2 && spans.some((s) => s.kind === SERVER) ? spans : undefined;
}

/** Asserts the tree: server span (root) → … → consumer span → one span per step. */
function expectOneTrace(spans: ReceivedSpan[], runId: string, runtime: "bun" | "node"): void {
  const server = spans.find((s) => s.kind === SERVER && s.name === "POST /api/v1/trigger");
  expect(server).toBeDefined();
  expect(server!.parentSpanId).toBe("");
  expect(server!.runtime).toBe(runtime);
  expect(server!.attributes).toMatchObject({
    "http.request.method": "POST",
    "http.route": "/api/v1/trigger",
    "http.response.status_code": 202,
  });

  const consumer = spans.find((s) => s.kind === CONSUMER)!;
  expect(consumer.name).toBe(`process ${topic}`);
  expect(consumer.service).toBe("wf-test-worker");
  expect(consumer.attributes).toMatchObject({
    "messaging.system": "kafka",
    "messaging.destination.name": topic,
    "messaging.kafka.message.key": runId,
  });
  // Walk up from the consumer span: the chain must reach the API's server span.
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  let hop: ReceivedSpan | undefined = consumer;
  while (hop && hop.spanId !== server!.spanId) hop = byId.get(hop.parentSpanId);
  expect(hop?.spanId).toBe(server!.spanId);

  const steps = spans.filter((s) => s.parentSpanId === consumer.spanId);
  expect(
    steps
      .map((s) => [
        s.name,
        s.attributes["workflow.step.name"],
        s.attributes["workflow.step.type"],
        s.attributes["workflow.step.attempts"],
        s.attributes["workflow.step.status"],
      ])
      .sort(),
  ).toEqual([
    ["step note", "note", "log", 1, "completed"],
    ["step shape", "shape", "transform", 1, "completed"],
  ]);
  expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
}

describe("tracing with OTEL_EXPORTER_OTLP_ENDPOINT set", () => {
  test("HTTP request → Kafka message → worker → steps is one trace (Bun API)", async () => {
    const runId = await completedRun(base);
    const spans = await waitFor("the run's spans at the collector", async () => traceOf(runId), 30_000, 200);
    expectOneTrace(spans, runId, "bun");
    expect(spans.find((s) => s.kind === SERVER)!.service).toBe("wf-test-api");
    expect([...contentTypes]).toEqual(["application/json"]);
    // Server spans are named by route template, never by the raw path.
    expect(
      received.some((s) => s.kind === SERVER && s.name === "GET /api/v1/runs/:id" && s.attributes["url.path"] === `/api/v1/runs/${runId}`),
    ).toBe(true);
  }, 90_000);

  test("the Node reference starts the same trace", async () => {
    let node: TestApi | undefined;
    try {
      node = await startApi({ runsTopic: topic, otlpEndpoint: endpoint, otelServiceName: "wf-test-api-node" }, "node");
      const runId = await completedRun(node.url);
      const spans = await waitFor("the run's spans at the collector", async () => traceOf(runId), 30_000, 200);
      expectOneTrace(spans, runId, "node");
    } finally {
      await node?.stop();
    }
  }, 90_000);

  test("a message the outbox relay publishes later carries the trigger's trace context", async () => {
    const config = loadConfig(process.env, {
      runsTopic: unique("runs-tracing-relay"),
      logLevel: "warn",
      outboxGraceMs: 0,
      outboxRelayIntervalMs: 100,
    });
    const services = createApiServices(createInfrastructure(config, "test"));
    try {
      const wf = await services.workflows.create({
        name: unique("wf-relay"),
        steps: [{ name: "note", type: "log", config: { message: "hi" } }],
      });
      const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
      // Not started, the producer is not connected: the publish is deferred and the outbox keeps the message.
      const { run } = await services.runs.trigger({ workflow_id: wf.id }, { traceparent });
      await services.start();
      const msgs = await readTopic(config, config.runsTopic, (m) => m.length >= 1, { settleMs: 0 });
      expect(msgs.map((m) => [m.key, m.headers.traceparent])).toEqual([[run.id, traceparent]]);
      expect(services.relay.stats.relayed).toBe(1);
    } finally {
      await services.close();
    }
  }, 90_000);

  test("spans still buffered are exported when the processes stop", async () => {
    const runId = await completedRun(base);
    api.kill("SIGTERM");
    await workers.stopAll("SIGTERM");
    expect(await api.exited).toBe(0);
    expect(workers.procs.map((p) => p.exitCode)).toEqual([0]);
    const spans = await waitFor("the run's spans at the collector", async () => traceOf(runId), 10_000, 50);
    expectOneTrace(spans, runId, "bun");
  }, 90_000);
});

describe("configuration", () => {
  test("a malformed OTEL_EXPORTER_OTLP_ENDPOINT stops API and worker at start, naming the variable", async () => {
    for (const entry of ["../../api/src/server.ts", "../../worker/src/process.ts"]) {
      const p = Bun.spawn([process.execPath, join(import.meta.dir, entry)], {
        env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" },
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(await p.exited).toBe(2);
      expect(await new Response(p.stderr).text()).toContain('OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318" is not valid');
    }
  });
});
