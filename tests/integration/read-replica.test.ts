import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cacheKeys } from "@wf/platform/cache";
import { loadConfig } from "@wf/platform/config";
import { createSql, type ReadTarget, type Sql } from "@wf/platform/sql";
import { call, sampleWorkflow, startApi, type TestApi, triggerRun, waitFor } from "../support/api.ts";
import { stack } from "../support/stack.ts";

// DATABASE_READ_URL against the stack's streaming replica (`infra/stack up replica`, started here
// when it is not running, and removed again at the end then). Replay is paused on the replica to
// make it lag on purpose: lists then show the lag, by-id reads never miss the client's own write.
const REPLICA_PORT = Number(process.env.PG_REPLICA_PORT ?? 5433);
const REPLICA_BOUNCER_PORT = Number(process.env.PGBOUNCER_REPLICA_PORT ?? 6433);

const withPort = (url: string, port: number) => {
  const u = new URL(url);
  u.port = String(port);
  return u.toString();
};

let api: TestApi;
let direct: Sql; // the replica itself, to pause and resume its replay
let startedHere = false;
let workflowId: string;

const isReplicaUp = async (sql: Sql) => {
  try {
    const [r] = await sql<{ r: boolean }[]>`SELECT pg_is_in_recovery() AS r`;
    return r?.r === true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  const config = loadConfig(process.env);
  direct = createSql({ ...config, dbConnectTimeoutS: 3 }, withPort(config.databaseDirectUrl, REPLICA_PORT), 1);
  if (!(await isReplicaUp(direct))) {
    startedHere = true;
    await stack("up", "replica");
  }
  // A bound on the lag far above what a paused replay reaches here: the replica stays in use while it lags.
  api = await startApi({
    databaseReadUrl: withPort(config.databaseUrl, REPLICA_BOUNCER_PORT),
    dbReadMaxLagMs: 600_000,
    dbReadTimeoutMs: 500,
  });
  await waitFor("the replica to be usable", async () => api.services.replica?.usable, 30_000);
  const r = await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow());
  expect(r.status).toBe(201);
  workflowId = r.body.id;
});

afterAll(async () => {
  await Promise.resolve()
    .then(resume)
    .catch(() => {});
  await api?.stop();
  await direct?.end();
  // Left as found: a replica started here is removed with its slot, which would otherwise keep WAL on the primary.
  if (startedHere) await stack("replica-remove");
});

const counts = () => ({ ...api.services.replica!.counts });
const delta = (before: Record<ReadTarget, number>, target: ReadTarget) => api.services.replica!.counts[target] - before[target];
const pause = async () => {
  await direct`SELECT pg_wal_replay_pause()`;
  await waitFor(
    "replay to pause",
    async () => (await direct<{ s: string }[]>`SELECT pg_get_wal_replay_pause_state() AS s`)[0]?.s === "paused",
  );
};
const resume = () => direct`SELECT pg_wal_replay_resume()`;
const ids = (page: { items: { id: string }[] }) => page.items.map((i) => i.id);
const schedule = () => ({ workflow_id: workflowId, cron: "0 0 1 1 *", enabled: false });

describe("reads with DATABASE_READ_URL", () => {
  test("replay paused: lists come from the replica and lag; a by-id read of a new row falls back to the primary (never 404)", async () => {
    await pause();
    try {
      const before = counts();
      const wf = await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow());
      expect(wf.status).toBe(201);
      const sc = await call(api.url, "POST", "/api/v1/schedules", schedule());
      expect(sc.status).toBe(201);
      // Without the copy the write put in Redis, the read goes to the database: the replica has no such row yet.
      await api.services.cache.del(cacheKeys.workflow(wf.body.id));
      expect(await call(api.url, "GET", `/api/v1/workflows/${wf.body.id}`)).toMatchObject({ status: 200, body: wf.body });
      expect(await call(api.url, "GET", `/api/v1/schedules/${sc.body.id}`)).toMatchObject({ status: 200, body: sc.body });
      expect(await call(api.url, "GET", `/api/v1/workflows/${wf.body.id}/versions/1`)).toMatchObject({ status: 200 });
      const runId = await triggerRun(api.url, { workflow_id: wf.body.id });
      await api.services.cache.del(cacheKeys.run(runId));
      expect(await call(api.url, "GET", `/api/v1/runs/${runId}`)).toMatchObject({ status: 200, body: { id: runId } });
      expect(delta(before, "primary_missing")).toBeGreaterThanOrEqual(4);

      // The lists are the replica's: the rows written after the pause are not there yet.
      const listed = await call(api.url, "GET", "/api/v1/workflows?limit=100");
      expect(listed.status).toBe(200);
      expect(ids(listed.body)).not.toContain(wf.body.id);
      const schedules = await call(api.url, "GET", "/api/v1/schedules?limit=100");
      expect(ids(schedules.body)).not.toContain(sc.body.id);
      // ...and the primary has them, so this is the replica's lag, not a missing write.
      const [onPrimary] = await api.services.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM workflows WHERE id = ${wf.body.id}::uuid`;
      expect(onPrimary?.n).toBe(1);
      expect(delta(before, "replica")).toBeGreaterThanOrEqual(2);

      // The lag is measured and exported while it lasts.
      await waitFor("a lag above 0", async () => (api.services.replica!.lagSeconds ?? 0) > 0, 10_000);
      const metrics = await api.services.metrics.registry.metrics();
      expect(metrics).toMatch(/^pg_replica_lag_seconds\{[^}]*\} [0-9.e+-]+$/m);
      expect(Number(/^pg_replica_lag_seconds\{[^}]*\} (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
      expect(metrics).toMatch(/^pg_replica_up\{[^}]*\} 1$/m);
      expect(metrics).toMatch(/^db_reads_total\{[^}]*target="primary_missing"[^}]*\} [1-9]/m);

      // A change of an existing row is not lost either: the process reads what it just changed from the primary.
      const existing = (await call(api.url, "POST", "/api/v1/schedules", schedule())).body;
      const replaced = await call(api.url, "PUT", `/api/v1/schedules/${existing.id}`, { ...schedule(), cron: "0 0 2 1 *" });
      expect(replaced.status).toBe(200);
      expect((await call(api.url, "GET", `/api/v1/schedules/${existing.id}`)).body.cron).toBe("0 0 2 1 *");
      expect((await call(api.url, "DELETE", `/api/v1/schedules/${existing.id}`)).status).toBe(204);
      expect((await call(api.url, "GET", `/api/v1/schedules/${existing.id}`)).status).toBe(404);
      expect(delta(before, "primary_recent_write")).toBeGreaterThanOrEqual(2);

      await resume();
      await waitFor(
        "the list to catch up",
        async () => ids((await call(api.url, "GET", "/api/v1/workflows?limit=100")).body).includes(wf.body.id),
        10_000,
      );
      await waitFor("the lag to go back to 0", async () => api.services.replica!.lagSeconds === 0, 10_000);
    } finally {
      await resume();
    }
  });

  test("once replayed, by-id reads are the replica's", async () => {
    const sc = (await call(api.url, "POST", "/api/v1/schedules", schedule())).body;
    await waitFor("the replica to have it", async () => {
      const [r] = await direct<{ n: number }[]>`SELECT count(*)::int AS n FROM schedules WHERE id = ${sc.id}::uuid`;
      return r?.n === 1;
    });
    const before = counts();
    expect(await call(api.url, "GET", `/api/v1/schedules/${sc.id}`)).toMatchObject({ status: 200, body: sc });
    expect(delta(before, "replica")).toBe(1);
    expect(delta(before, "primary_missing")).toBe(0);
    const ready = await call(api.url, "GET", "/health/ready");
    expect(ready).toMatchObject({ status: 200, body: { status: "ok", checks: { postgres: "up", postgres_replica: "up" } } });
  });

  test("the replica down: reads fall back to the primary without an error, readiness stays 200 with postgres_replica down", async () => {
    const sc = (await call(api.url, "POST", "/api/v1/schedules", schedule())).body;
    // Its PgBouncer stays up: a client of it then waits for a server, the case the read timeout is for.
    await stack("down", "postgres-replica");
    try {
      for (let i = 0; i < 5; i++) {
        expect(await call(api.url, "GET", `/api/v1/schedules/${sc.id}`)).toMatchObject({ status: 200, body: sc });
        const listed = await call(api.url, "GET", "/api/v1/schedules?limit=100");
        expect(listed.status).toBe(200);
        expect(ids(listed.body)).toContain(sc.id);
        expect((await call(api.url, "GET", `/api/v1/workflows/${workflowId}`)).status).toBe(200);
      }
      expect(api.services.replica!.usable).toBe(false);
      const ready = await call(api.url, "GET", "/health/ready");
      expect(ready).toMatchObject({ status: 200, body: { status: "ok", checks: { postgres: "up", postgres_replica: "down" } } });
      expect(await api.services.metrics.registry.metrics()).toMatch(/^pg_replica_up\{[^}]*\} 0$/m);
    } finally {
      await stack("up", "postgres-replica");
    }
    await waitFor("the replica to be usable again", async () => api.services.replica?.usable, 30_000);
    const before = counts();
    expect((await call(api.url, "GET", "/api/v1/schedules?limit=10")).status).toBe(200);
    expect(delta(before, "replica")).toBe(1);
  });
});
