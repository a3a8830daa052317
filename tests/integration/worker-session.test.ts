import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createLogger } from "@wf/domain";
import { createKafka } from "@wf/domain/bus/kafka";
import { call, startApi, unique, waitFor, type TestApi } from "../support/api.ts";
import { startWorkers, type WorkerGroup } from "../support/workers.ts";

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
    KAFKA_RUNS_TOPIC: api.config.runsTopic,
    KAFKA_DEAD_LETTER_TOPIC: `${api.config.runsTopic}.dlq`,
    WORKER_GROUP_ID: groupId,
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
});
