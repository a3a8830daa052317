import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createSql, type Sql } from "@wf/platform/sql";
import { findOha } from "../../bench/src/oha/oha.ts";
import { pgbenchCeiling } from "../../bench/src/runs/ceiling.ts";
import { ApiClient } from "../../bench/src/runs/client.ts";
import { kafkaHop } from "../../bench/src/runs/kafka-hop.ts";
import { loadStep, type Window } from "../../bench/src/runs/load.ts";
import { parkedWaits } from "../../bench/src/runs/parked.ts";
import { sequential } from "../../bench/src/runs/sequential.ts";
import { CHAIN_3, FANOUT_100, FOREACH_1000 } from "../../bench/src/runs/shapes.ts";
import { startApi, type TestApi, unique } from "../support/api.ts";
import { startWorkers, type WorkerGroup } from "../support/workers.ts";

// The execution bench's pieces against the real API, workers and PostgreSQL, small enough for CI.
let api: TestApi;
let workers: WorkerGroup;
let sql: Sql;
let client: ApiClient;
beforeAll(async () => {
  api = await startApi();
  workers = startWorkers(1, {
    KAFKA_RUNS_TOPIC: api.config.runsTopic,
    WORKER_GROUP_ID: unique("bench-runs-workers"),
    PARK_AFTER_MS: "500",
    TIMER_POLL_MS: "50",
  });
  sql = createSql(api.config, api.config.databaseDirectUrl, 2);
  client = new ApiClient(api.url);
});
afterAll(async () => {
  await workers.stopAll();
  await sql.end();
  await api.stop();
});

const noCpu: Window = { begin() {}, end: () => undefined };

describe("bench:runs", () => {
  test("runs one at a time: every run completes, the engine's timings are ordered and the client's enclose them", async () => {
    const s = await sequential(client, sql, CHAIN_3, 20, () => {});
    expect(s.not_completed).toBe(0);
    expect(s.service_complete.count).toBe(20);
    expect(s.service_start.p50_ms).toBeGreaterThanOrEqual(0);
    expect(s.service_complete.p50_ms).toBeGreaterThanOrEqual(s.service_start.p50_ms);
    // The client sent the trigger before the run was created and read the end after it was recorded.
    expect(s.client_complete.p50_ms).toBeGreaterThanOrEqual(s.service_complete.p50_ms - 1);
    expect(s.client_accepted.count).toBe(20);
  }, 60_000);

  test("the fan-out shapes complete one at a time", async () => {
    for (const shape of [FANOUT_100, FOREACH_1000]) {
      const s = await sequential(client, sql, shape, 3, () => {});
      expect(s.not_completed).toBe(0);
      expect(s.service_complete.count).toBe(3);
    }
  }, 60_000);

  test("parked waits: every run parks holding no worker, chain-3 runs beside them, and each completes after its delay", async () => {
    const p = await parkedWaits(client, sql, 30, 2_000, 60, () => {});
    expect(p.leased_while_parked).toBe(0);
    expect(p.completed).toBe(30);
    expect(p.lost).toBe(0);
    expect(p.chain3_while_parked.not_completed).toBe(0);
    expect(p.late.count).toBe(30);
    expect(p.late.min_ms).toBeGreaterThanOrEqual(0);
  }, 90_000);

  const oha = findOha();
  test.skipIf(!oha)(
    "a closed-loop load step: every accepted run is found in PostgreSQL, terminal, with its steps run once",
    async () => {
      const l = await loadStep(oha!, client, sql, { shape: CHAIN_3, mode: "closed", concurrency: 8, durationS: 1, drainS: 60 }, noCpu);
      expect(l.accepted).toBeGreaterThan(0);
      expect(l.lost).toBe(0);
      expect(l.failed).toBe(0);
      expect(l.duplicate_steps).toBe(0);
      expect(l.completed_rps).toBeGreaterThan(0);
      // Three steps a run: steps/s is the completion rate three times over (each rounded on its own).
      expect(Math.abs(l.steps_per_s - 3 * l.completed_rps)).toBeLessThanOrEqual(2);
      expect(l.service_complete.count).toBeGreaterThanOrEqual(l.accepted);
      expect(l.database?.rows_written_per_run).toBeGreaterThan(0);
    },
    120_000,
  );

  test("pgbench's ceiling is measured on the same PostgreSQL and its table is dropped after", async () => {
    const c = await pgbenchCeiling(sql, api.config.databaseDirectUrl, { clients: 2, durationS: 1, via: "direct" });
    expect(c.tps).toBeGreaterThan(0);
    const [t] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'bench_ceiling'`;
    expect(t?.n).toBe(0);
  }, 60_000);

  test("Kafka's floor: each of the messages sent one at a time is received, after its send began", async () => {
    const { hop, ack } = await kafkaHop(api.config, 10);
    expect(hop.count).toBe(10);
    expect(ack.count).toBe(10);
    expect(hop.min_ms).toBeGreaterThan(0);
  }, 60_000);
});
