import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, metricSample, sampleWorkflow, startApi, type TestApi, unique, waitFor } from "../support/api.ts";
import { readTopic } from "../support/kafka.ts";
import { steadyLoad } from "../support/replicas.ts";
import { stack } from "../support/stack.ts";

// Real dependencies stopped and started under load, with short breaker settings so that opening,
// probing and closing happen within a test's time.
let api: TestApi;
let workflowId: string;
let runId: string;
beforeAll(async () => {
  api = await startApi({
    breakerFailures: 3,
    breakerOpenMs: 1000,
    dbQueryTimeoutMs: 5000,
    kafkaPublishTimeoutMs: 1000,
    outboxGraceMs: 2000,
  });
  workflowId = (await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow())).body.id;
  runId = (await call(api.url, "POST", "/api/v1/trigger", { workflow_id: workflowId })).body.run_id;
});
afterAll(async () => {
  await api.stop();
});

/** A missing series reads as NaN, which no assertion here accepts. */
const metric = async (name: string, label: string, value: string) => (await metricSample(api.url, name, label, value)) ?? Number.NaN;
const circuit = (dependency: string) => metric("circuit_breaker_state", "dependency", dependency);

const reads = () => [
  `${api.url}/api/v1/workflows/${workflowId}`,
  `${api.url}/api/v1/runs/${runId}`,
  `${api.url}/api/v1/runs?limit=5`,
  `${api.url}/api/v1/workflows?limit=5`,
];
const trigger = () => () =>
  new Request(`${api.url}/api/v1/trigger`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ workflow_id: workflowId, idempotency_key: unique("fault") }),
  });

describe("faults under load", () => {
  test("Redis stopped: no failed request, cache errors counted, the circuit opens, and closes when Redis is back", async () => {
    const errorsBefore = await metric("cache_operations_total", "result", "error");
    const load = steadyLoad([...reads(), trigger()], 16);
    let opened = false;
    await stack("down", "redis");
    try {
      opened = await waitFor("Redis's circuit to open", async () => (await circuit("redis")) === 1, 10_000, 50);
      await Bun.sleep(1500); // keep the load on while the circuit is open and probing
    } finally {
      await stack("up", "redis");
    }
    await waitFor("Redis's circuit to close", async () => (await circuit("redis")) === 0, 20_000, 100);
    const result = await load.stop();
    expect(opened).toBe(true);
    expect(result.failures.slice(0, 5)).toEqual([]);
    expect(result.ok).toBeGreaterThan(100);
    expect(await metric("cache_operations_total", "result", "error")).toBeGreaterThan(errorsBefore);
    expect(await metric("cache_operations_total", "result", "bypassed")).toBeGreaterThan(0);
  });

  test("Kafka stopped: triggers still answer 202 fast, the circuit opens and closes, every run is published", async () => {
    const load = steadyLoad([trigger()], 8);
    await stack("down", "kafka");
    try {
      await waitFor("Kafka's circuit to open", async () => (await circuit("kafka")) === 1, 20_000, 50);
      // While open, a trigger does not wait for the publish timeout.
      const t0 = performance.now();
      const r = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: workflowId });
      expect(r.status).toBe(202);
      expect(performance.now() - t0).toBeLessThan(api.config.kafkaPublishTimeoutMs);
    } finally {
      await stack("up", "kafka");
    }
    await waitFor("Kafka's circuit to close", async () => (await circuit("kafka")) === 0, 60_000, 100);
    const result = await load.stop();
    expect(result.failures.slice(0, 5)).toEqual([]);
    expect(result.ok).toBeGreaterThan(20);
    await waitFor(
      "the outbox to drain",
      async () => (await api.services.sql`SELECT count(*)::int AS n FROM outbox WHERE topic = ${api.config.runsTopic}`)[0]!.n === 0,
      60_000,
      250,
    );
    const ids = (await api.services.sql<{ id: string }[]>`SELECT id::text FROM runs WHERE workflow_id = ${workflowId}::uuid`).map(
      (r) => r.id,
    );
    expect(ids.length).toBeGreaterThan(result.ok);
    const msgs = await readTopic(api.config, api.config.runsTopic, (m) => {
      const keys = new Set(m.map((x) => x.key));
      return ids.every((id) => keys.has(id));
    });
    const published = new Set(msgs.map((m) => m.key));
    expect(ids.filter((id) => !published.has(id))).toEqual([]);
  });

  for (const service of ["pgbouncer", "postgres"] as const) {
    test(`${service} stopped: 503 problem+json with retry-after within a bound, then recovery without restart`, async () => {
      await stack("down", service);
      const answers: { status: number; ms: number; retryAfter: string | null; type: string | null }[] = [];
      try {
        for (let i = 0; i < 8; i++) {
          const t0 = performance.now();
          const res = await fetch(`${api.url}/api/v1/workflows/${crypto.randomUUID()}`);
          await res.arrayBuffer();
          answers.push({
            status: res.status,
            ms: performance.now() - t0,
            retryAfter: res.headers.get("retry-after"),
            type: res.headers.get("content-type"),
          });
        }
        expect(await circuit("postgres")).toBe(1);
        // /health stays up (the process is fine), readiness says why it is not ready.
        expect((await call(api.url, "GET", "/health")).status).toBe(200);
        expect((await call(api.url, "GET", "/health/ready")).status).toBe(503);
      } finally {
        await stack("up", service);
      }
      for (const a of answers) {
        expect(a.status).toBe(503);
        expect(a.type).toStartWith("application/problem+json");
        expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
        // Bounded by the query timeout (or the connect failure), never by PgBouncer's wait queue.
        expect(a.ms).toBeLessThan(api.config.dbQueryTimeoutMs + api.config.dbConnectTimeoutS * 1000 + 1000);
      }
      // Once open, the circuit answers at once instead of trying again.
      expect(Math.min(...answers.slice(-3).map((a) => a.ms))).toBeLessThan(200);
      await waitFor(
        "the API to serve from PostgreSQL again",
        async () => (await fetch(`${api.url}/api/v1/workflows?limit=1`)).status === 200, // not cached
        30_000,
        200,
      );
      expect(await circuit("postgres")).toBe(0);
      const created = await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow());
      expect(created.status).toBe(201);
    });
  }
});
