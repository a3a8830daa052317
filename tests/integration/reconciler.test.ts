import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newId } from "@wf/core/ids";
import type { RunMessage } from "@wf/core/runs";
import { createKafka } from "@wf/platform/bus";
import { createLogger } from "@wf/platform/observability";
import { Reconciler } from "@wf/services/execution";
import { RunStore } from "@wf/services/runs";
import { call, sampleWorkflow, startApi, type TestApi, unique, waitFor } from "../support/api.ts";
import { readTopic } from "../support/kafka.ts";

// The shared database holds other tests' runs, pending or running, on other topics or none. This
// test's runs are made 26 years old and the reconciler under test only looks at runs over a year
// old, so it sees this test's runs and nothing of anyone else's (nor do its passes disturb theirs).
const ANCIENT = new Date("2000-01-01T00:00:00Z");
const YEAR_MS = 365 * 24 * 3600 * 1000;

let api: TestApi;
let topicA: string;
let topicB: string;
let workflowId: string;
const mine: string[] = [];

beforeAll(async () => {
  api = await startApi(); // its runs topic (created by the API's publisher) is topic A
  topicA = api.config.runsTopic;
  topicB = unique("runs-test-other");
  const admin = createKafka(api.config, createLogger("error"), unique("reconciler-admin")).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: topicB, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  const wf = await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow());
  expect(wf.status).toBe(201);
  workflowId = wf.body.id;
});
afterAll(async () => {
  // Left behind, these ancient unfinished runs would be adopted by every later reconciler.
  if (mine.length > 0) await api.services.sql`DELETE FROM runs WHERE id = ANY(${`{${mine.join(",")}}`}::uuid[])`;
  await api?.stop();
});

interface Row {
  id: string;
  topic: string | null;
  updated_at: Date;
}
const rows = async (ids: string[]) =>
  new Map(
    (await api.services.sql<Row[]>`SELECT id, topic, updated_at FROM runs WHERE id = ANY(${`{${ids.join(",")}}`}::uuid[])`).map((r) => [
      r.id,
      r,
    ]),
  );

/**
 * Stores a pending run of `topic` through the store's real insert, then makes it abandoned: its
 * outbox message lost, and ancient; `running` also gives it an expired lease (its worker died).
 */
async function abandoned(topic: string, status: "pending" | "running", opts: { legacy?: boolean } = {}): Promise<string> {
  const id = newId();
  const stored = await new RunStore(api.services.sql).insertPending(
    [{ id, workflowId, input: {}, idempotencyKey: null, now: new Date() }],
    topic,
  );
  expect(stored.has(id)).toBe(true);
  mine.push(id);
  expect((await rows([id])).get(id)!.topic).toBe(topic);
  await api.services.sql.begin(async (tx) => {
    await tx`DELETE FROM outbox WHERE key = ${id}`;
    await tx`
      UPDATE runs SET updated_at = ${ANCIENT}, status = ${status},
             lease_owner = ${status === "running" ? "dead-worker" : null},
             lease_expires_at = ${status === "running" ? ANCIENT : null},
             topic = ${opts.legacy ? null : topic}
      WHERE id = ${id}::uuid`;
  });
  return id;
}

describe("reconciler", () => {
  test("a trigger records the topic its run is published to", async () => {
    const r = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: workflowId });
    expect(r.status).toBe(202);
    mine.push(r.body.run_id);
    expect((await rows([r.body.run_id])).get(r.body.run_id)!.topic).toBe(topicA);
  });

  test("republishes abandoned runs of its own topic (and legacy ones of none), never another topic's", async () => {
    const ownPending = await abandoned(topicA, "pending");
    const ownRunning = await abandoned(topicA, "running");
    const legacy = await abandoned(topicA, "pending", { legacy: true });
    const otherPending = await abandoned(topicB, "pending");
    const otherRunning = await abandoned(topicB, "running");
    const adopted = [ownPending, ownRunning, legacy];
    const foreign = [otherPending, otherRunning];

    const reconciler = new Reconciler(api.services.sql, api.services.publisher, api.services.log, {
      topic: topicA,
      intervalMs: 60_000, // never started: runOnce is called directly
      pendingStaleMs: YEAR_MS,
      leaseMs: YEAR_MS,
      batchSize: 1000,
    });
    const before = new Date();
    // A pass returns 0 while another process (a worker of another test) holds the reconcilers' lock.
    await waitFor("a reconciler pass", async () => (await reconciler.runOnce()) > 0, 30_000, 200);

    const after = await rows([...adopted, ...foreign]);
    for (const id of adopted) expect(after.get(id)!.updated_at.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
    for (const id of foreign) expect(after.get(id)!.updated_at.toISOString()).toBe(ANCIENT.toISOString());
    expect(after.get(legacy)!.topic).toBeNull();

    const msgs = await readTopic(api.config, topicA, (m) => adopted.every((id) => m.some((x) => x.key === id)), { timeoutMs: 30_000 });
    for (const id of adopted) {
      const republished = msgs.filter((m) => m.key === id);
      expect(republished.length).toBe(1);
      expect(republished[0]!.value as RunMessage).toEqual({ run_id: id, workflow_id: workflowId, workflow_version: 1 });
    }
    expect(msgs.filter((m) => foreign.includes(m.key))).toEqual([]);
    expect(reconciler.stats.republished).toBeGreaterThanOrEqual(adopted.length);
  });
});
