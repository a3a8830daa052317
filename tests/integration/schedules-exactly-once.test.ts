import { afterAll, beforeAll, expect, test } from "bun:test";
import { loadConfig } from "@wf/platform/config";
import { createSql, type Sql } from "@wf/platform/sql";
import type { Subprocess } from "bun";
import { unique, waitFor } from "../support/api.ts";
import { collectLines, freePort, startApiReplicas } from "../support/replicas.ts";
import { startWorkers, type WorkerGroup } from "../support/workers.ts";

// The test: a schedule every second for about 20 s, with `bun run api` (3 replicas) and 3
// worker processes (each runs a ticker), all real processes on the real stack. Mid-way two workers
// and an API replica are killed -9 and restarted: one ticker is always up, so no tick may be
// missing. Then every worker is killed at once and restarted a few seconds later: the ticks of
// that outage (older than SCHEDULE_MISFIRE_MS when a ticker is back) start ONE run, for the latest
// of them. Every tick that has a run has exactly one, and every run completes.
const MISFIRE_MS = 1500;
const topic = unique("runs-schedules");
let port: number;
let base: string;
let api: Subprocess<"ignore", "pipe", "pipe">;
let apiLines: string[];
let workers: WorkerGroup;
let sql: Sql;

const env = {
  KAFKA_RUNS_TOPIC: topic,
  WORKER_GROUP_ID: unique("schedule-workers"),
  SCHEDULE_POLL_MS: "100",
  SCHEDULE_MISFIRE_MS: String(MISFIRE_MS),
  RUN_LEASE_MS: "3000",
  RECONCILE_INTERVAL_MS: "1000",
};

beforeAll(async () => {
  sql = createSql(loadConfig(process.env), undefined, 2);
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // A publish lost with a killed worker is the relay's to deliver: soon, for the test.
  api = startApiReplicas(port, 3, { KAFKA_RUNS_TOPIC: topic, OUTBOX_GRACE_MS: "2000", OUTBOX_RELAY_INTERVAL_MS: "500" });
  apiLines = collectLines(api);
  workers = startWorkers(3, env);
  await waitFor("3 API replicas listening", async () => listening() === 3, 30_000);
});
afterAll(async () => {
  await workers?.stopAll("SIGKILL");
  api?.kill("SIGTERM");
  await api?.exited;
  await sql?.end();
});

const listening = () => apiLines.filter((l) => l.includes("api replica listening")).length;
const replicaPids = () => {
  const alive = new Map<number, number>();
  for (const l of apiLines) {
    const e = JSON.parse(l);
    if (e.msg === "api replica started") alive.set(e.replica, e.pid);
  }
  return [...alive.values()];
};
const live = () => workers.procs.filter((w) => w.exitCode === null && w.signalCode === null);
const kill9 = async (procs: Subprocess[]) => {
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
};
const dbNow = async () => (await sql<{ now: Date }[]>`SELECT clock_timestamp() AS now`)[0]!.now.getTime();

async function post(path: string, body: unknown, method = "POST") {
  const res = await fetch(`${base}${path}`, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

type Run = { id: string; key: string; schedule_id: string; status: string; created_at: Date };
const runsOf = async (scheduleId: string): Promise<Run[]> => [
  ...(await sql<Run[]>`
    SELECT id::text, idempotency_key AS key, schedule_id::text, status, created_at FROM runs
    WHERE schedule_id = ${scheduleId}::uuid ORDER BY idempotency_key`),
];
const tickOf = (key: string) => Date.parse(key.split(":").slice(2).join(":"));

test("a schedule every second, 3 API replicas and 3 workers, kills -9 and restarts: exactly one run per tick, none missing but an all-down outage's, which starts one", async () => {
  const wf = await post("/api/v1/workflows", {
    name: unique("every-second"),
    steps: [{ name: "only", type: "log", config: { message: "tick" } }],
  });
  expect(wf.status).toBe(201);
  const created = await post("/api/v1/schedules", { workflow_id: wf.body.id, cron: "* * * * * *" });
  expect(created.status).toBe(201);
  const id: string = created.body.id;
  await waitFor("the first tick's run", async () => (await runsOf(id)).length > 0, 30_000);

  // Two of three workers and one API replica killed -9 at once, restarted 2 s later (as the supervisors would).
  await Bun.sleep(4000);
  const [victim] = replicaPids();
  process.kill(victim!, "SIGKILL");
  await kill9(live().slice(0, 2));
  await Bun.sleep(2000);
  workers.add();
  workers.add();
  await waitFor("the API replica's replacement", async () => listening() >= 4, 30_000);

  // Every worker killed -9; all back after 3 s.
  await Bun.sleep(4000);
  const outageFrom = await dbNow();
  await kill9(live());
  await Bun.sleep(3000);
  const restartedAt = await dbNow();
  for (let i = 0; i < 3; i++) workers.add();
  await waitFor("a run after the outage", async () => (await runsOf(id)).some((r) => r.created_at.getTime() > restartedAt), 30_000);
  await Bun.sleep(5000);

  // Read once the schedule is disabled: no tick starts a run afterwards.
  const disabled = await post(`/api/v1/schedules/${id}`, { workflow_id: wf.body.id, cron: "* * * * * *", enabled: false }, "PUT");
  expect(disabled.status).toBe(200);

  const runs = await runsOf(id);
  const ticks = runs.map((r) => tickOf(r.key));
  // One run per tick: no key twice (the unique index would refuse it), each tick a whole second.
  expect(new Set(ticks).size).toBe(runs.length);
  for (const t of ticks) expect(t % 1000).toBe(0);
  expect(runs.every((r) => r.schedule_id === id)).toBe(true);
  const span = (ticks.at(-1)! - ticks[0]!) / 1000;
  expect(span).toBeGreaterThanOrEqual(18);

  // The ticks with no run: one stretch, inside the outage, ended by the run that stands for it.
  const missing: number[] = [];
  for (let i = 1; i < ticks.length; i++) for (let t = ticks[i - 1]! + 1000; t < ticks[i]!; t += 1000) missing.push(t);
  expect(missing.length).toBeGreaterThanOrEqual(1);
  expect(missing.length).toBe((missing.at(-1)! - missing[0]!) / 1000 + 1);
  // Due no more than a pass before every ticker died (a tick due just then may not have been taken yet).
  expect(missing[0]!).toBeGreaterThan(outageFrom - 1000);
  const standIn = runs[ticks.indexOf(missing.at(-1)! + 1000)]!;
  const standInTick = tickOf(standIn.key);
  // Started by a ticker back from the outage, more than the misfire window after its tick.
  expect(standIn.created_at.getTime()).toBeGreaterThan(restartedAt);
  expect(standIn.created_at.getTime() - standInTick).toBeGreaterThan(MISFIRE_MS);
  // The ticks after it, inside the window when that ticker came back, have each their own run.
  expect(ticks.filter((t) => t > standInTick && t < standIn.created_at.getTime()).length).toBeGreaterThanOrEqual(1);

  // Every run is delivered and executed, whatever process died after its commit.
  const done = await waitFor(
    "every run to complete",
    async () => {
      const rs = await runsOf(id);
      return rs.every((r) => r.status === "completed") && rs;
    },
    45_000,
    250,
  );
  expect(done.length).toBe(runs.length);
}, 150_000);
