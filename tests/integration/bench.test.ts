import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createKafka } from "@wf/platform/bus";
import { createLogger } from "@wf/platform/observability";
import { createSql, type Sql } from "@wf/platform/sql";
import { audit } from "../../bench/src/flow/audit.ts";
import { runFlow } from "../../bench/src/flow/runner.ts";
import { inconsistencies } from "../../bench/src/flow/stats.ts";
import { findOha, runOha } from "../../bench/src/oha/oha.ts";
import { FLOW_STEPS } from "../../bench/src/results.ts";
import { benchStore, recreateStore, vacuumStore } from "../../bench/src/store.ts";
import { startApi, type TestApi, unique } from "../support/api.ts";
import { startWorkers, type WorkerGroup } from "../support/workers.ts";

let api: TestApi;
let workers: WorkerGroup;
let sql: Sql;
beforeAll(async () => {
  api = await startApi();
  workers = startWorkers(1, { KAFKA_RUNS_TOPIC: api.config.runsTopic, WORKER_GROUP_ID: unique("bench-workers") });
  sql = createSql(api.config, api.config.databaseDirectUrl, 2);
});
afterAll(async () => {
  await workers.stopAll();
  await sql.end();
  await api.stop();
});

describe("bench", () => {
  test("the flow runner with 50 users: every statistic present and consistent, and the audit passes", async () => {
    const tag = unique("bench-test");
    const out = await runFlow({ base: api.url, users: 50, target: "bun", round: 1, tag, timeoutMs: 30_000 });
    const f = out.flow;
    expect(f.requests).toBe(50 * 7);
    expect(f.ok + f.failed).toBe(f.requests);
    expect(f.failed).toBe(0);
    expect(f.users_completed).toBe(50);
    expect(f.throughput_rps).toBeGreaterThan(0);
    expect(f.throughput_ok_rps).toBeLessThanOrEqual(f.throughput_rps);
    expect(Object.keys(f.per_step)).toEqual([...FLOW_STEPS]);
    let sum = 0;
    for (const s of [...Object.values(f.per_step), f.overall]) {
      expect(inconsistencies(s)).toEqual([]);
      expect(s.mean_ms).toBeGreaterThan(0);
    }
    for (const s of Object.values(f.per_step)) sum += s.count;
    expect(sum).toBe(f.requests);
    expect(f.timeline.reduce((a, t) => a + t.requests, 0)).toBe(f.requests);
    expect(f.histogram.at(-1)!.count).toBe(f.requests);
    expect(out.accepted_runs.length).toBe(50);

    const a = await audit(sql, {
      target: "bun",
      round: 1,
      tag,
      accepted_runs: out.accepted_runs,
      workflows_created: out.workflows_created,
      deadlineS: 60,
    });
    expect(a.problems).toEqual([]);
    expect(a).toMatchObject({ passed: true, runs_accepted: 50, runs_terminal: 50, workflows_in_db: 50, runs_in_db: 50 });
  });

  test("the audit fails on a run left pending", async () => {
    const tag = unique("bench-stuck");
    const wf = crypto.randomUUID();
    const run = Bun.randomUUIDv7();
    await sql`INSERT INTO workflows (id, name, steps, created_at, updated_at) VALUES (${wf}, ${`${tag}-0`}, '[]', now(), now())`;
    await sql`INSERT INTO runs (id, workflow_id, workflow_version, definition, status, idempotency_key, created_at, updated_at)
              VALUES (${run}, ${wf}, 1, '[]', 'pending', ${`${tag}-0`}, now(), now())`;
    const a = await audit(sql, { target: "bun", round: 1, tag, accepted_runs: [run], workflows_created: 1, deadlineS: 2 });
    expect(a.passed).toBe(false);
    expect(a.runs_not_terminal).toBe(1);
    expect(a.problems[0]).toContain("1 accepted run(s) not terminal after 2 s");
    await sql`DELETE FROM runs WHERE id = ${run}`;
  });

  test("the bench's own store: database and topics created empty, and emptied again by the next bench", async () => {
    const store = benchStore(api.config, unique("wf_bench_test").replaceAll("-", "_").toLowerCase(), "pgbouncer");
    const kafka = createKafka(api.config, createLogger("silent"), "bench-store-test");
    const admin = kafka.admin();
    await admin.connect();
    const state = async () => {
      const db = createSql(api.config, store.url, 1);
      try {
        const [m] = await db<{ n: number }[]>`SELECT count(*)::int AS n FROM schema_migrations`;
        const [w] = await db<{ n: number }[]>`SELECT count(*)::int AS n FROM workflows`;
        const offsets = await admin.fetchTopicOffsets(store.runsTopic);
        return {
          migrations: m!.n,
          workflows: w!.n,
          messages: offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0),
          partitions: offsets.length,
          dlq: (await admin.listTopics()).includes(store.deadLetterTopic),
          group: (await admin.listGroups()).groups.some((g) => g.groupId === store.groupId),
        };
      } finally {
        await db.end();
      }
    };
    try {
      await recreateStore(api.config, store);
      const fresh = await state();
      expect(fresh).toEqual({
        migrations: fresh.migrations,
        workflows: 0,
        messages: 0,
        partitions: api.config.runsTopicPartitions,
        dlq: true,
        group: false,
      });
      expect(fresh.migrations).toBeGreaterThan(0);
      // An earlier bench's leftovers: a row written through PgBouncer (which then keeps a server
      // connection into the database), a message its workers never read, and the group's offsets.
      const db = createSql(api.config, store.url, 1);
      await db`INSERT INTO workflows (id, name, steps, created_at, updated_at) VALUES (${crypto.randomUUID()}, 'left over', '[]', now(), now())`;
      await db.end();
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: store.runsTopic, messages: [{ key: "k", value: "left over" }] });
      await producer.disconnect();
      await admin.setOffsets({ groupId: store.groupId, topic: store.runsTopic, partitions: [{ partition: 0, offset: "0" }] });
      expect(await state()).toMatchObject({ workflows: 1, messages: 1, group: true });
      await recreateStore(api.config, store);
      expect(await state()).toEqual(fresh);
    } finally {
      await admin.deleteTopics({ topics: [store.runsTopic, store.deadLetterTopic] }).catch(() => {});
      await admin.disconnect();
      await sql.unsafe(`DROP DATABASE IF EXISTS "${store.database}" WITH (FORCE)`);
    }
  });

  test("before a measured flow the bench's tables are vacuumed and analyzed: dead rows gone, statistics fresh", async () => {
    const store = benchStore(api.config, unique("wf_bench_vacuum").replaceAll("-", "_").toLowerCase(), "direct");
    try {
      await recreateStore(api.config, store);
      const db = createSql(api.config, store.directUrl, 1);
      try {
        // What a warm-up leaves: new rows, and dead ones (here, deleted).
        await db`INSERT INTO workflows (id, name, steps, created_at, updated_at)
                 SELECT gen_random_uuid(), 'w' || i, '[]', now(), now() FROM generate_series(1, 2000) AS i`;
        await db`DELETE FROM workflows WHERE name LIKE 'w1%'`;
        const stats = async () =>
          (
            await db<{ dead: number; vacuums: number; analyzes: number }[]>`
            SELECT n_dead_tup::int AS dead, vacuum_count::int AS vacuums, analyze_count::int AS analyzes
            FROM pg_stat_user_tables WHERE relname = 'workflows'`
          )[0]!;
        await db`SELECT pg_stat_force_next_flush()`;
        const before = await stats();
        expect(before.dead).toBeGreaterThan(0);
        const v = await vacuumStore(db);
        expect(v.tables).toEqual(expect.arrayContaining(["outbox", "runs", "workflows"]));
        expect(v.seconds).toBeGreaterThan(0);
        await db`SELECT pg_stat_clear_snapshot()`;
        const after = await stats();
        expect(after.vacuums).toBe(before.vacuums + 1);
        expect(after.analyzes).toBe(before.analyzes + 1);
        expect(after.dead).toBe(0);
      } finally {
        await db.end();
      }
    } finally {
      const admin = createKafka(api.config, createLogger("silent"), "bench-vacuum-test").admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [store.runsTopic, store.deadLetterTopic] }).catch(() => {});
      await admin.disconnect();
      await sql.unsafe(`DROP DATABASE IF EXISTS "${store.database}" WITH (FORCE)`);
    }
  });

  const oha = findOha();
  if (!oha)
    console.warn(
      "SKIPPED oha parsing test: oha is not installed (./dev test and bun run bench install it with cargo install oha --locked)",
    );
  test.skipIf(!oha)("oha's JSON output is parsed from a real run", async () => {
    const r = await runOha(
      oha!,
      api.url,
      { name: "/health", method: "GET", path: "/health" },
      { target: "bun", round: 1, concurrency: 4, durationS: 1 },
    );
    expect(r.rps).toBeGreaterThan(0);
    expect(r.success_rate).toBe(1);
    expect(r.status_codes["200"]).toBe(r.requests);
    expect(r.p50_ms).toBeGreaterThan(0);
    expect(r.p50_ms).toBeLessThanOrEqual(r.p99_ms);
    expect(r.p99_ms).toBeLessThanOrEqual(r.max_ms);
  });

  test.skipIf(!oha)("success is the share answered 2xx: oha's own rate counts a 404 as a success", async () => {
    const path = `/api/v1/workflows/${Bun.randomUUIDv7()}`;
    const r = await runOha(
      oha!,
      api.url,
      { name: "/api/v1/workflows/{id}", method: "GET", path },
      { target: "bun", round: 1, concurrency: 4, durationS: 1 },
    );
    expect(r.status_codes["404"]).toBe(r.requests);
    expect(r.success_rate).toBe(0);
  });
});
