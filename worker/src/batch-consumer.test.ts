import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newId } from "@wf/core/ids";
import { encodeRunMessage } from "@wf/core/runs";
import type { StepSpec } from "@wf/core/workflows";
import { createKafka, Publisher, waitForGroupCoordinator } from "@wf/platform/bus";
import { Cache } from "@wf/platform/cache";
import type { Config } from "@wf/platform/config";
import { createLogger } from "@wf/platform/observability";
import { createSql, type Sql } from "@wf/platform/sql";
import { ExecutionStore } from "@wf/services/execution";
import { RunStore } from "@wf/services/runs";
import type { Admin, Kafka, Producer } from "kafkajs";
import { BatchConsumer } from "./batch-consumer.ts";
import { RunExecutor } from "./run-executor.ts";
import { RunWatch } from "./run-watch.ts";
import { deleteRuns, insertRun, migrated, runState, testConfig, unique, waitFor } from "./testing/stack.ts";

// BatchConsumer with its real collaborators: a kafkajs consumer in a consumer group of its own on
// a topic of its own, the service's Publisher for the dead-letter topic, and a RunExecutor over the
// real PostgreSQL and Redis. Offsets are read back from the broker.
const log = createLogger("error");
let base: Config;
let sql: Sql;
let cache: Cache;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let publisher: Publisher;
const topics: string[] = [];
const consumers = new Set<TestWorker>();

beforeAll(async () => {
  base = testConfig({ runLeaseMs: 3000, cancelPollMs: 50 });
  await migrated(base);
  sql = createSql(base);
  cache = new Cache(base);
  kafka = createKafka(base, log, unique("batch-consumer-test"));
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer();
  await producer.connect();
  publisher = new Publisher(kafka, log, base.kafkaPublishTimeoutMs);
  expect(await publisher.start()).toBe(true);
});

afterAll(async () => {
  for (const w of consumers) await w.stop(0);
  await producer?.disconnect();
  await publisher?.close();
  if (topics.length > 0) await admin?.deleteTopics({ topics }).catch(() => {});
  await admin?.disconnect();
  if (sql) {
    await deleteRuns(sql, topics);
    await sql.end({ timeout: 5 });
  }
  await cache?.close();
});

/** One worker process's consumer side: its own lease owner, watch and executor, as process.ts wires them. */
interface TestWorker {
  owner: string;
  watch: RunWatch;
  executor: RunExecutor;
  consumer: BatchConsumer;
  /** As process.ts stops it: `graceMs` for runs in flight, then the rest handed back. */
  stop(graceMs: number): Promise<void>;
}

/** A runs topic and its dead-letter topic, and a consumer group, all new. */
async function newTopic(partitions: number): Promise<Config> {
  const config = { ...base, runsTopic: unique("runs-batch"), workerGroupId: unique("workers-batch") };
  config.deadLetterTopic = `${config.runsTopic}.dlq`;
  topics.push(config.runsTopic, config.deadLetterTopic);
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: config.runsTopic, numPartitions: partitions },
      { topic: config.deadLetterTopic, numPartitions: 1 },
    ],
  });
  return config;
}

async function startWorker(config: Config): Promise<TestWorker> {
  const owner = unique("test-batch-worker");
  const store = new ExecutionStore(sql, owner, config.runLeaseMs);
  const watch = new RunWatch(store, log, { pollMs: config.cancelPollMs, leaseMs: config.runLeaseMs });
  const executor = new RunExecutor(store, cache, watch, log, config);
  const consumer = new BatchConsumer(kafka, executor, publisher, log, config);
  await waitForGroupCoordinator(admin, config.workerGroupId, log);
  watch.start();
  let stopped: Promise<void> | undefined;
  const w: TestWorker = {
    owner,
    watch,
    executor,
    consumer,
    stop: (graceMs) =>
      (stopped ??= (async () => {
        try {
          await consumer.stop(
            graceMs,
            () => watch.size,
            () => watch.abortAll("shutdown"),
          );
        } finally {
          watch.stop();
          consumers.delete(w);
        }
      })()),
  };
  consumers.add(w);
  await consumer.start();
  return w;
}

/** Stores pending runs of `topic` and sends their messages, in order, to `partition` (or spread). */
async function sendRuns(config: Config, definition: StepSpec[], inputs: unknown[], partition?: (i: number) => number): Promise<string[]> {
  const ids: string[] = [];
  for (const input of inputs) ids.push(await insertRun(sql, config.runsTopic, { definition, input }));
  await producer.send({
    topic: config.runsTopic,
    acks: -1,
    messages: ids.map((id, i) => ({
      key: id,
      value: encodeRunMessage({ run_id: id, workflow_id: newId(), workflow_version: 1 }),
      partition: partition?.(i) ?? 0,
    })),
  });
  return ids;
}

/** The group's committed offset of each partition (-1: none), by partition. */
async function committed(config: Config): Promise<number[]> {
  const [t] = await admin.fetchOffsets({ groupId: config.workerGroupId, topics: [config.runsTopic] });
  return (t?.partitions ?? []).sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
}

/** Each partition's high watermark, by partition. */
async function ends(topic: string): Promise<number[]> {
  return (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition).map((p) => Number(p.high));
}

const sameList = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

interface DeadLetter {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** Everything in a dead-letter topic, once it holds `n` messages, read with a consumer of its own. */
async function readDeadLetters(config: Config, n: number): Promise<DeadLetter[]> {
  const reader = kafka.consumer({ groupId: unique("dlq-reader") });
  const got: DeadLetter[] = [];
  await reader.connect();
  try {
    await reader.subscribe({ topic: config.deadLetterTopic, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        got.push({
          key: message.key?.toString() ?? "",
          value: message.value?.toString() ?? "",
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, v?.toString() ?? ""])),
        });
      },
    });
    await waitFor(`${n} dead-lettered messages`, async () => got.length >= n, 30_000);
    return got;
  } finally {
    await reader.disconnect();
  }
}

const transform: StepSpec[] = [{ name: "shape", type: "transform", config: { output: "{{input.k}}" } }];

describe("BatchConsumer", () => {
  test("the runs of a batch are executed, each once, and every partition's offset is committed past them", async () => {
    const config = await newTopic(2);
    const inputs = Array.from({ length: 20 }, (_, k) => ({ k }));
    const ids = await sendRuns(config, transform, inputs, (i) => i % 2);
    expect(await ends(config.runsTopic)).toEqual([10, 10]);
    const w = await startWorker(config);
    try {
      await waitFor("the group to commit every partition to its end", async () => sameList(await committed(config), [10, 10]), 60_000, 200);
      const rows = await Promise.all(ids.map((id) => runState(sql, id)));
      expect(rows.map((r) => [r.status, r.output, r.executions])).toEqual(inputs.map(({ k }) => ["completed", k, 1]));
      expect(w.executor.stats).toMatchObject({ completed: 20, skipped: 0 });
      expect(w.consumer.stats.deadLettered).toBe(0);
      // The consumer lag gauge is kept per partition.
      expect([...w.consumer.lag.keys()].sort()).toEqual([`${config.runsTopic}/0`, `${config.runsTopic}/1`]);
    } finally {
      await w.stop(5000);
    }
  });

  test("a malformed message and one for an unknown run go to the dead-letter topic with their reasons; the partition goes on", async () => {
    const config = await newTopic(1);
    const unknownRun = newId();
    // key, value, the reason it is refused, its offset
    const poison: Array<[string, string, string, string]> = [
      ["not-json", "{ not json", "bad message: message value is not JSON", "0"],
      [
        "bad-id",
        JSON.stringify({ run_id: "nope", workflow_id: newId(), workflow_version: 1 }),
        "bad message: run_id is missing or not a UUID",
        "1",
      ],
      [
        unknownRun,
        encodeRunMessage({ run_id: unknownRun, workflow_id: newId(), workflow_version: 1 }),
        `run ${unknownRun} does not exist`,
        "2",
      ],
    ];
    await producer.send({ topic: config.runsTopic, acks: -1, messages: poison.map(([key, value]) => ({ key, value, partition: 0 })) });
    const [good] = await sendRuns(config, transform, [{ k: "after the poison" }]);
    const w = await startWorker(config);
    try {
      await waitFor("the group to commit past all four messages", async () => sameList(await committed(config), [4]), 60_000, 200);
      expect(await runState(sql, good!)).toMatchObject({ status: "completed", output: "after the poison", executions: 1 });
      // Exactly three messages were dead-lettered, once each.
      expect(await ends(config.deadLetterTopic)).toEqual([3]);
      expect(w.consumer.stats.deadLettered).toBe(3);
      const dead = await readDeadLetters(config, 3);
      const byKey = new Map(dead.map((d) => [d.key, d]));
      for (const [key, value, reason, offset] of poison) {
        const d = byKey.get(key);
        expect(d?.value).toBe(value);
        expect(d?.headers).toMatchObject({ reason, source_topic: config.runsTopic, source_partition: "0", source_offset: offset });
        expect(Number.isNaN(Date.parse(d?.headers.failed_at ?? ""))).toBe(false);
      }
    } finally {
      await w.stop(5000);
    }
  });

  test("stop() gives a run in flight its grace to finish: it completes and its offset is committed as the consumer leaves", async () => {
    const config = await newTopic(1);
    const [id] = await sendRuns(
      config,
      [
        { name: "wait", type: "delay", config: { ms: 3000 } },
        { name: "shape", type: "transform", config: { output: "drained" } },
      ],
      [{}],
    );
    const w = await startWorker(config);
    await waitFor("the run to be claimed", async () => (await runState(sql, id!)).lease_owner === w.owner, 60_000);
    const inFlightAtStop = w.watch.size;
    await w.stop(60_000);

    expect(inFlightAtStop).toBe(1);
    expect(await runState(sql, id!)).toMatchObject({ status: "completed", output: "drained", executions: 1 });
    expect(await committed(config)).toEqual([1]);
    expect(w.executor.stats).toMatchObject({ completed: 1, handedBack: 0 });
  });

  test("stop() hands back at once a message waiting out another owner's lease: the run is left alone and the offset uncommitted", async () => {
    const config = await newTopic(1);
    const w = await startWorker(config);
    try {
      await waitFor(
        "the consumer to join its group",
        async () => {
          const [g] = (await admin.describeGroups([config.workerGroupId])).groups;
          return g?.state === "Stable" && g.members.length === 1;
        },
        60_000,
        200,
      );
      // A run whose owner died a moment ago: its lease, shorter than ours, is waited out before a claim.
      const id = await insertRun(sql, config.runsTopic, {
        status: "running",
        definition: transform,
        input: { k: "resumed" },
        executions: 1,
        leaseOwner: "a-dead-worker",
        leaseExpiresInMs: config.runLeaseMs - 200,
      });
      await producer.send({
        topic: config.runsTopic,
        acks: -1,
        messages: [{ key: id, value: encodeRunMessage({ run_id: id, workflow_id: newId(), workflow_version: 1 }), partition: 0 }],
      });
      await waitFor("the message to be fetched", async () => w.consumer.lag.has(`${config.runsTopic}/0`), 60_000);
      // Nothing is in flight (the run is not claimed yet): no grace is waited for, the lease wait is cut short.
      await w.stop(60_000);

      expect(await runState(sql, id)).toMatchObject({ status: "running", lease_owner: "a-dead-worker", executions: 1 });
      expect(await committed(config)).toEqual([-1]);
      expect(w.executor.stats).toMatchObject({ completed: 0, skipped: 0 });
    } finally {
      await w.stop(0);
    }
  });

  test("a run still going when the grace is over is handed back: its offset stays uncommitted, even behind a finished one, and it is redelivered", async () => {
    const config = await newTopic(1);
    const [long] = await sendRuns(config, [{ name: "wait", type: "delay", config: { ms: 60_000 } }], [{}]);
    const [next] = await sendRuns(config, transform, [{ k: "next" }]);

    const first = await startWorker(config);
    await waitFor("the long run to be claimed", async () => (await runState(sql, long!)).lease_owner === first.owner, 60_000);
    await waitFor("the next run, executed beside it, to complete", async () => (await runState(sql, next!)).status === "completed", 60_000);
    await first.stop(200);

    const handedBack = await runState(sql, long!);
    expect(handedBack).toMatchObject({ status: "running", executions: 1, lease_lapsed: true });
    expect(handedBack.steps.map((s) => [s.name, s.status])).toEqual([["wait", "cancelled"]]);
    // The finished message after it is not committed either: committing it would commit the long one's offset too.
    expect(await committed(config)).toEqual([-1]);
    expect(first.executor.stats).toMatchObject({ handedBack: 1, completed: 1 });

    // The group's next member gets both messages again: resumes the long run, skips the finished one.
    const second = await startWorker(config);
    try {
      await waitFor("the long run to be claimed again", async () => (await runState(sql, long!)).lease_owner === second.owner, 60_000);
      expect((await runState(sql, long!)).executions).toBe(2);
      await new RunStore(sql).cancel(long!, new Date());
      await waitFor("the group to commit past both messages", async () => sameList(await committed(config), [2]), 60_000, 200);
      expect(await runState(sql, long!)).toMatchObject({ status: "cancelled", executions: 2 });
      expect(await runState(sql, next!)).toMatchObject({ status: "completed", output: "next", executions: 1 });
      expect(second.executor.stats).toMatchObject({ cancelled: 1, skipped: 1, completed: 0, handedBack: 0 });
    } finally {
      await second.stop(5000);
    }
  });

  test("messages not started when stop() is called are not started: they stay pending and uncommitted", async () => {
    const config = { ...(await newTopic(1)), workerConcurrency: 1 };
    const [long] = await sendRuns(config, [{ name: "wait", type: "delay", config: { ms: 60_000 } }], [{}]);
    const [next] = await sendRuns(config, transform, [{ k: "next" }]);

    const w = await startWorker(config);
    await waitFor("the long run to be claimed", async () => (await runState(sql, long!)).lease_owner === w.owner, 60_000);
    await w.stop(200);

    expect(await runState(sql, long!)).toMatchObject({ status: "running", executions: 1, lease_lapsed: true });
    expect(await runState(sql, next!)).toMatchObject({ status: "pending", executions: 0 });
    expect(await committed(config)).toEqual([-1]);
    expect(w.executor.stats).toMatchObject({ handedBack: 1, completed: 0, skipped: 0 });
  });
});
