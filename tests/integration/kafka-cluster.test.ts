import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKafka } from "@wf/platform/bus";
import { createLogger } from "@wf/platform/observability";
import type { Admin } from "kafkajs";
import { createWorkflow, startApi, type TestApi, unique, waitFor } from "../support/api.ts";
import { stack } from "../support/stack.ts";
import { startTarget } from "../support/target.ts";
import { groupEnv, startWorkers, type WorkerGroup } from "../support/workers.ts";

// The three-broker KRaft cluster of `infra/stack up kafka-cluster`, in a STACK_DIR and on ports of
// its own (the jars are the main stack's), so the single broker every other test uses is not
// touched. A broker is killed -9 while 2,000 triggers are being accepted and consumed, then
// restarted: every accepted run must complete, each step once, and the broker must be back in
// every partition's ISR.
const PORTS = [29192, 29292, 29392];
const BROKERS = PORTS.map((p) => `127.0.0.1:${p}`);
const MAIN_STACK = process.env.STACK_DIR ?? join(import.meta.dir, "../../.stack");
const DIR = join(tmpdir(), "wf-kafka-cluster-test");
const ENV = { STACK_DIR: DIR, KAFKA_CLUSTER_PORTS: PORTS.join(" "), STACK_START_TIMEOUT: "150" };
const N = 2000;

const target = startTarget();
let api: TestApi;
let workers: WorkerGroup;
let admin: Admin;

beforeAll(async () => {
  mkdirSync(join(DIR, "kafka"), { recursive: true });
  for (const libs of readdirSync(join(MAIN_STACK, "kafka")).filter((f) => f.startsWith("libs-"))) {
    const link = join(DIR, "kafka", libs);
    if (!existsSync(link)) symlinkSync(join(MAIN_STACK, "kafka", libs), link);
  }
  await stack("up", "kafka-cluster", ENV);
  api = await startApi({
    kafkaBrokers: BROKERS,
    kafkaReplicationFactor: 3,
    kafkaMinInsyncReplicas: 2,
    kafkaIdempotent: true,
    runsTopicPartitions: 6,
    // A publish that fails while partitions change leaders is republished by the relay soon.
    outboxGraceMs: 3000,
    outboxRelayIntervalMs: 500,
  });
  workers = startWorkers(2, {
    ...groupEnv(api.config.runsTopic, unique("cluster")),
    KAFKA_BROKERS: BROKERS.join(","),
    KAFKA_REPLICATION_FACTOR: "3",
    KAFKA_MIN_INSYNC_REPLICAS: "2",
    KAFKA_IDEMPOTENT: "true",
    OUTBOX_GRACE_MS: "3000",
    OUTBOX_RELAY_INTERVAL_MS: "500",
    EGRESS_ALLOW: "127.0.0.2",
    RUN_LEASE_MS: "5000",
    RECONCILE_INTERVAL_MS: "1000",
  });
  admin = createKafka(api.config, createLogger("error"), unique("cluster-test")).admin();
  await admin.connect();
}, 240_000);

afterAll(async () => {
  // The cluster's data stays for the next run (no format again): without this run's topics, whose
  // recovery would slow every later start.
  const topic = api?.config.runsTopic;
  if (topic) await admin?.deleteTopics({ topics: [topic, `${topic}.dlq`], timeout: 10_000 }).catch(() => {});
  await admin?.disconnect();
  await workers?.stopAll("SIGKILL");
  await api?.stop();
  target.stop();
  await stack("down", "kafka-cluster", ENV);
}, 120_000);

const nodePid = (i: number) => Number(readFileSync(join(DIR, "kafka-cluster", `node${i}`, "kafka.pid"), "utf8").trim());
const partitions = async (topic: string) =>
  (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.sort((a, b) => a.partitionId - b.partitionId);
/** Whether every partition of the topic satisfies `ok`; false while the metadata cannot be read (a broker just died). */
const everyPartition = async (topic: string, ok: (p: Awaited<ReturnType<typeof partitions>>[number]) => boolean) => {
  try {
    return (await partitions(topic)).every(ok);
  } catch {
    return false;
  }
};

type Step = { name: string; status: string; attempts: number; output?: { body?: { n: number; path: string } } };
type Row = { id: string; status: string; executions: number; steps: Step[] };

describe("three Kafka brokers", () => {
  test("kill -9 of a broker during 2,000 triggers and their consumption: every accepted run completes, each step once, and the broker rejoins the ISR", async () => {
    const topic = api.config.runsTopic;
    // The service created its topic replicated on all three, acknowledged by two.
    for (const p of await partitions(topic)) {
      expect(p.replicas.sort()).toEqual([1, 2, 3]);
      expect(p.isr.sort()).toEqual([1, 2, 3]);
    }
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2 /* TOPIC */, name: topic, configNames: ["min.insync.replicas"] }],
    });
    expect(described.resources[0]!.configEntries[0]!.configValue).toBe("2");

    const tag = unique("k");
    const workflowId = await createWorkflow(api.url, {
      name: unique("cluster"),
      steps: [
        { name: "call", type: "http", config: { method: "GET", url: `${target.url}/${tag}/{{input.k}}` } },
        { name: "pause", type: "delay", config: { ms: 200 } },
        { name: "shape", type: "transform", config: { output: { k: "{{input.k}}", n: "{{steps.call.body.n}}" } } },
      ],
    });

    // The victim leads partition 0 of the runs topic: its partitions must move while producers and
    // consumers use them.
    const victim = (await partitions(topic))[0]!.leader;
    const accepted: string[] = [];
    const refused: number[] = [];
    let next = 0;
    let killedAt = -1;
    let completedAtKill = -1;
    let restarted: Promise<void> | undefined;
    const completed = async () =>
      (
        await api.services.sql<
          { n: number }[]
        >`SELECT count(*)::int AS n FROM runs WHERE workflow_id = ${workflowId}::uuid AND status = 'completed'`
      )[0]!.n;
    const trigger = async (k: number) => {
      const res = await fetch(`${api.url}/api/v1/trigger`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ workflow_id: workflowId, input: { k }, idempotency_key: `${tag}-${k}` }),
      });
      const body = (await res.json()) as { run_id?: string };
      if (res.status === 202 && body.run_id) accepted.push(body.run_id);
      else refused.push(res.status);
    };
    // While the flow goes on: every partition gets a leader among the two others and an ISR of two;
    // then the killed broker is started again (the same `up` starts only the node that is missing).
    const whileDownThenRestart = async (node: number) => {
      await waitFor(
        `partitions led by the two brokers left, without broker ${node} in their ISR`,
        () => everyPartition(topic, (p) => p.leader !== node && p.leader >= 0 && !p.isr.includes(node) && p.isr.length === 2),
        20_000,
        250,
      );
      await stack("up", "kafka-cluster", ENV);
    };
    const flow = Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let k = next++; k < N; k = next++) {
          if (k === N / 4) {
            // Workers are consuming: some runs have completed (this lane waits, the others go on).
            completedAtKill = await waitFor("the workers to complete runs", async () => (await completed()) || undefined, 60_000, 100);
            process.kill(nodePid(victim), "SIGKILL");
            killedAt = k;
            restarted = whileDownThenRestart(victim);
          }
          await trigger(k);
        }
      }),
    );
    await flow;
    expect(killedAt).toBe(N / 4);
    // Workers were consuming when the broker died, with most of the flow still to come.
    expect(completedAtKill).toBeGreaterThan(0);
    expect(completedAtKill).toBeLessThan(N / 2);
    await restarted;
    await waitFor(
      `broker ${victim} back in every partition's ISR`,
      () => everyPartition(topic, (p) => p.isr.includes(victim)),
      60_000,
      500,
    );

    expect(refused).toEqual([]);
    expect(accepted.length).toBe(N);
    // Audited by the accepted ids only: a replay (a new run) of one of them is not one of them.
    const ids = `{${accepted.join(",")}}`;
    const rows = await waitFor(
      `${N} runs to finish`,
      async () => {
        const r = await api.services.sql<Row[]>`SELECT id::text, status, executions, steps FROM runs WHERE id = ANY(${ids}::uuid[])`;
        return r.length === N && r.every((x) => ["completed", "failed", "cancelled"].includes(x.status)) ? r : undefined;
      },
      90_000,
      500,
    );
    // Exactly once: each accepted run completed, claimed by one worker once, each step executed once,
    // and its http call was the first the target saw on that run's path.
    expect(rows.filter((r) => r.status !== "completed").map((r) => [r.id, r.status])).toEqual([]);
    expect(rows.filter((r) => r.executions !== 1).map((r) => [r.id, r.executions])).toEqual([]);
    for (const r of rows) {
      expect(r.steps.map((s) => [s.name, s.status, s.attempts])).toEqual([
        ["call", "completed", 1],
        ["pause", "completed", 1],
        ["shape", "completed", 1],
      ]);
      expect(r.steps[0]!.output?.body?.n).toBe(1);
    }
    expect([...target.hits.keys()].filter((path) => path.startsWith(`/${tag}/`)).length).toBe(N);
  }, 240_000);
});
