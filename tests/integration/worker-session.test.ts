import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createKafka } from "@wf/platform/bus";
import { createLogger } from "@wf/platform/observability";
import { call, startApi, type TestApi, unique, waitFor } from "../support/api.ts";
import { readTopic } from "../support/kafka.ts";
import { groupEnv, startWorkers, type WorkerGroup } from "../support/workers.ts";

// The workers' Kafka session timeout (worker/src/batch-consumer.ts): a member silent this long is
// expelled from the group.
const SESSION_TIMEOUT_MS = 10_000;

let api: TestApi;
let workers: WorkerGroup;
let groupId: string;
beforeAll(async () => {
  api = await startApi();
  groupId = unique("workers-session");
  workers = startWorkers(1, {
    ...groupEnv(api.config.runsTopic, groupId),
    // The long delay must hold its worker (the batch it belongs to), not park.
    PARK_AFTER_MS: "3600000",
  });
});
afterAll(async () => {
  await workers?.stopAll("SIGKILL");
  await api.stop();
});

describe("worker session", () => {
  test("a batch that outlasts the session timeout keeps its member in the group", async () => {
    const admin = createKafka(api.config, createLogger("error"), unique("session-admin")).admin();
    await admin.connect();
    try {
      const members = async () => (await admin.describeGroups([groupId])).groups[0]?.members.map((m) => m.memberId) ?? [];
      await waitFor("the worker to join its group", async () => (await members()).length === 1, 30_000, 250);
      const [member] = await members();

      const wf = await call(api.url, "POST", "/api/v1/workflows", {
        name: unique("long"),
        steps: [{ name: "wait", type: "delay", config: { ms: SESSION_TIMEOUT_MS + 4000 } }],
      });
      const run = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: wf.body.id });
      expect(run.status).toBe(202);

      // While the one message of the batch runs, the member must stay the same one: an expelled
      // member rejoins under a new id (and its offsets cannot be committed).
      const seen = new Set<string>();
      await waitFor(
        "the long run to complete",
        async () => {
          for (const m of await members()) seen.add(m);
          const [r] = await api.services.sql<{ status: string }[]>`SELECT status FROM runs WHERE id = ${run.body.run_id}::uuid`;
          return r?.status === "completed";
        },
        60_000,
        500,
      );
      expect([...seen]).toEqual([member!]);
      const [row] = await api.services.sql<{ executions: number }[]>`SELECT executions FROM runs WHERE id = ${run.body.run_id}::uuid`;
      expect(row!.executions).toBe(1);
    } finally {
      await admin.disconnect();
    }
  });

  test("a backlog of 20,000 poison messages is dead-lettered once each, with no member expelled", async () => {
    const topic = unique("runs-poison");
    const group = unique("workers-poison");
    const kafka = createKafka(api.config, createLogger("error"), unique("poison-test"));
    const admin = kafka.admin();
    await admin.connect();
    let poison: WorkerGroup | undefined;
    try {
      await admin.createTopics({
        topics: [
          { topic, numPartitions: 3 },
          { topic: `${topic}.dlq`, numPartitions: 1 },
        ],
        waitForLeaders: true,
      });
      const producer = kafka.producer();
      await producer.connect();
      for (let i = 0; i < 20_000; i += 2000)
        await producer.send({
          topic,
          messages: Array.from({ length: 2000 }, () => {
            const id = crypto.randomUUID();
            return { key: id, value: JSON.stringify({ run_id: id, workflow_id: crypto.randomUUID(), workflow_version: 1 }) };
          }),
        });
      await producer.disconnect();

      poison = startWorkers(2, { KAFKA_RUNS_TOPIC: topic, KAFKA_DEAD_LETTER_TOPIC: `${topic}.dlq`, WORKER_GROUP_ID: group });
      // An expelled member rejoins under a new id: two workers must show two ids, whatever happens.
      const members = new Set<string>();
      const watch = setInterval(async () => {
        const g = await admin.describeGroups([group]).catch(() => undefined);
        for (const m of g?.groups[0]?.members ?? []) members.add(m.memberId);
      }, 500);
      const config = { ...api.config, runsTopic: topic };
      const dlq = await readTopic(config, `${topic}.dlq`, (m) => m.length >= 20_000, { timeoutMs: 120_000, settleMs: 3000 });
      clearInterval(watch);
      expect(dlq.length).toBe(20_000);
      expect(new Set(dlq.map((m) => m.key)).size).toBe(20_000);
      expect(members.size).toBeLessThanOrEqual(2);
    } finally {
      await poison?.stopAll("SIGKILL");
      await admin.disconnect();
    }
  }, 180_000);
});
