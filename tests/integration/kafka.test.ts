import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RunMessage } from "@wf/core/runs";
import { call, sampleWorkflow, startApi, type TestApi, waitFor } from "../support/api.ts";
import { readTopic } from "../support/kafka.ts";
import { stack } from "../support/stack.ts";

let api: TestApi;
let workflowId: string;
beforeAll(async () => {
  // A short grace so the relay's recovery is observed within the test's time.
  api = await startApi({ outboxGraceMs: 500, outboxRelayIntervalMs: 200, kafkaPublishTimeoutMs: 1000 });
  workflowId = (await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow())).body.id;
});
afterAll(() => api.stop());

const outboxRows = async () =>
  (await api.services.sql`SELECT count(*)::int AS n FROM outbox WHERE topic = ${api.config.runsTopic}`)[0]!.n as number;

describe("trigger → Kafka", () => {
  test("the runs topic exists with the configured partitions", async () => {
    const { createKafka } = await import("@wf/platform/bus");
    const { createLogger } = await import("@wf/platform/observability");
    const admin = createKafka(api.config, createLogger("error")).admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [api.config.runsTopic] });
    await admin.disconnect();
    expect(meta.topics[0]!.partitions.length).toBe(api.config.runsTopicPartitions);
  });

  test("each trigger publishes exactly one message, keyed by run id", async () => {
    const ids: string[] = [];
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => call(api.url, "POST", "/api/v1/trigger", { workflow_id: workflowId, input: { i } })),
    );
    for (const a of answers) {
      expect(a.status).toBe(202);
      ids.push(a.body.run_id);
    }
    const msgs = await readTopic(api.config, api.config.runsTopic, (m) => ids.every((id) => m.some((x) => x.key === id)));
    for (const id of ids) {
      const mine = msgs.filter((m) => m.key === id);
      expect(mine.length).toBe(1);
      expect(mine[0]!.value as RunMessage).toEqual({ run_id: id, workflow_id: workflowId, workflow_version: 1 });
    }
    expect(new Set(msgs.map((m) => m.partition)).size).toBeGreaterThan(1);
    await waitFor("acknowledged outbox rows to be deleted", async () => (await outboxRows()) === 0, 30_000);
  });

  test("a replayed idempotency key publishes nothing more", async () => {
    const key = `k-${Date.now()}`;
    const first = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: workflowId, idempotency_key: key });
    await call(api.url, "POST", "/api/v1/trigger", { workflow_id: workflowId, idempotency_key: key });
    const msgs = await readTopic(api.config, api.config.runsTopic, (m) => m.some((x) => x.key === first.body.run_id));
    expect(msgs.filter((m) => m.key === first.body.run_id).length).toBe(1);
  });

  test("with Kafka stopped triggers still answer 202, and every run is published once Kafka is back", async () => {
    await stack("down", "kafka");
    const ids: string[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const r = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: workflowId });
        expect(r.status).toBe(202);
        // Never hangs on the broker: bounded by the publish timeout.
        expect(performance.now() - t0).toBeLessThan(api.config.kafkaPublishTimeoutMs + 1500);
        ids.push(r.body.run_id);
      }
      expect(await outboxRows()).toBeGreaterThanOrEqual(5);
      for (const id of ids) expect((await call(api.url, "GET", `/api/v1/runs/${id}`)).body.status).toBe("pending");
    } finally {
      await stack("up", "kafka");
    }
    await waitFor("the outbox to drain", async () => (await outboxRows()) === 0, 60_000, 250);
    const msgs = await readTopic(api.config, api.config.runsTopic, (m) => ids.every((id) => m.some((x) => x.key === id)));
    // At least once: a send that timed out may still have reached the broker before the relay's.
    for (const id of ids) expect(msgs.filter((m) => m.key === id).length).toBeGreaterThanOrEqual(1);
  });
});
