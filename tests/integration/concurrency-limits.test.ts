import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ExecutionStore, Reconciler, WaitingRuns } from "@wf/services/execution";
import { call, createWorkflow as createWorkflowOn, startApi, type TestApi, triggerRun, unique, waitFor } from "../support/api.ts";
import { groupEnv, startWorkers, type WorkerGroup } from "../support/workers.ts";

// A workflow's `concurrency` limit (CONTRACT.md, Version 2): at most `limit` of its runs, per key
// value, are running at any instant, across all workers; the others stay pending, holding
// nothing, and start in trigger order as slots come free. First the store's rules one step at a
// time (no worker: the runs' messages go to a topic nobody consumes), then real workers.

const slow = Bun.serve({
  hostname: "127.0.0.2",
  port: 0,
  async fetch(req) {
    const ms = Number(new URL(req.url).pathname.split("/")[2] ?? 0);
    await Bun.sleep(ms);
    return Response.json({ slept: ms });
  },
});

let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api.stop();
  slow.stop(true);
});

const createWorkflow = (steps: unknown[], concurrency: { limit: number; key?: string }) =>
  createWorkflowOn(api.url, { name: unique("limited"), steps, concurrency });
const trigger = (workflowId: string, input: unknown = {}) => triggerRun(api.url, { workflow_id: workflowId, input });
/** One after the other: each run's trigger order is its created_at. */
const triggerEach = async (workflowId: string, n: number, input: unknown = {}) => {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await trigger(workflowId, input));
  return ids;
};

interface Row {
  id: string;
  status: string;
  wake_at: Date | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  executions: number;
}
const rows = async (ids: string[]) => {
  const found = await api.services.sql<Row[]>`
    SELECT id, status, wake_at, created_at, started_at, finished_at, executions FROM runs WHERE id = ANY(${`{${ids.join(",")}}`}::uuid[])`;
  return ids.map((id) => found.find((r) => r.id === id)!);
};
const row = async (id: string) => (await rows([id]))[0]!;
const woken = async (id: string) => (await row(id)).wake_at !== null;

describe("the store's rules, one step at a time", () => {
  const store = () => new ExecutionStore(api.services.sql, unique("owner"), 60_000);
  const steps = [{ name: "only", type: "transform", config: { output: 1 } }];

  test("a run is claimed only while its key has a free slot; two slots freed at once wake one run, whose claim wakes the next", async () => {
    const wf = await createWorkflow(steps, { limit: 2 });
    const [r1, r2, r3, r4, r5] = await triggerEach(wf, 5);
    const s = store();
    expect("why" in (await s.claim(r1!))).toBe(false);
    expect("why" in (await s.claim(r2!))).toBe(false);
    expect(await s.claim(r3!)).toEqual({ why: "waiting_for_slot" });
    expect(await row(r3!)).toMatchObject({ status: "pending", wake_at: null, started_at: null });

    // One terminal statement ends both: it wakes the oldest waiting run of the key, once.
    const ended = await Promise.all([s.finish(r1!, "completed", [], 1, null), s.finish(r2!, "completed", [], 2, null)]);
    expect(ended.map((r) => r?.status)).toEqual(["completed", "completed"]);
    expect([await woken(r3!), await woken(r4!), await woken(r5!)]).toEqual([true, false, false]);

    // The woken run's claim finds a slot still free and hands it on.
    expect("why" in (await s.claim(r3!))).toBe(false);
    expect([await woken(r4!), await woken(r5!)]).toEqual([true, false]);
    expect("why" in (await s.claim(r4!))).toBe(false);
    // Both slots taken: nobody else is woken.
    expect(await woken(r5!)).toBe(false);
    expect(await s.claim(r5!)).toEqual({ why: "waiting_for_slot" });
  });

  test("a message about any run of the key starts the oldest one that may start: trigger order, whatever order messages come in", async () => {
    const wf = await createWorkflow(steps, { limit: 1 });
    const [r1, r2] = await triggerEach(wf, 2);
    const s = store();
    const started = await s.claim(r2!);
    expect("why" in started ? started : started.id).toBe(r1!);
    expect(await rows([r1!, r2!])).toMatchObject([
      { status: "running", wake_at: null },
      { status: "pending", wake_at: null, started_at: null },
    ]);
    // r1's own message, late: nothing more may start.
    expect(await s.claim(r1!)).toEqual({ why: "waiting_for_slot" });
    expect(await s.finish(r1!, "completed", [], null, null)).toBeDefined();
    expect(await woken(r2!)).toBe(true);
    const next = await s.claim(r1!);
    expect("why" in next ? next : next.id).toBe(r2!);
  });

  test("a parked run keeps its slot; a cancel, of a running run or of the waiting run first in line, hands the slot on", async () => {
    const wf = await createWorkflow(steps, { limit: 1 });
    const [r1, r2, r3] = await triggerEach(wf, 3);
    const s = store();
    expect("why" in (await s.claim(r1!))).toBe(false);
    expect(await s.park(r1!, [], null)).toBe(true);
    expect(await s.claim(r2!)).toEqual({ why: "waiting_for_slot" });

    expect((await call(api.url, "POST", `/api/v1/runs/${r1}/cancel`)).status).toBe(200);
    expect([await woken(r2!), await woken(r3!)]).toEqual([true, false]);
    expect((await call(api.url, "POST", `/api/v1/runs/${r2}/cancel`)).status).toBe(200);
    expect(await woken(r3!)).toBe(true);
    expect("why" in (await s.claim(r3!))).toBe(false);
  });

  test("a waiting run first in line whose hand-over was missed is woken by the reconciler's net; one behind a full key is not", async () => {
    const free = await createWorkflow(steps, { limit: 1 });
    const full = await createWorkflow(steps, { limit: 1 });
    const [f1, f2] = await triggerEach(free, 2);
    const [g1, g2] = await triggerEach(full, 2);
    const s = store();
    expect("why" in (await s.claim(g1!))).toBe(false);
    // As if their wake-ups were lost an hour ago.
    await api.services.sql`UPDATE runs SET updated_at = now() - interval '1 hour' WHERE id IN (${f1!}::uuid, ${f2!}::uuid, ${g2!}::uuid)`;
    const reconciler = new Reconciler(api.services.sql, api.services.publisher, api.services.log, {
      topic: api.config.runsTopic,
      intervalMs: 1000,
      pendingStaleMs: 86_400_000,
      leaseMs: 60_000,
      batchSize: 100,
    });
    expect(await reconciler.wakeStranded()).toBeGreaterThanOrEqual(1);
    expect([await woken(f1!), await woken(f2!), await woken(g2!)]).toEqual([true, false, false]);
    // Woken a moment ago: not again before an interval.
    await api.services.sql`UPDATE runs SET wake_at = NULL WHERE id = ${f1!}::uuid`;
    await reconciler.wakeStranded();
    expect(await woken(f1!)).toBe(false);
  });

  test("the runs_waiting counts: runs waiting for a slot, parked runs, runs scheduled for later (this topic's)", async () => {
    const waiting = new WaitingRuns(api.services.sql, api.services.log, api.config.runsTopic);
    const before = await waiting.count();
    const limited = await createWorkflow(steps, { limit: 1 });
    const [holder, behind] = await triggerEach(limited, 2);
    const s = store();
    expect("why" in (await s.claim(holder!))).toBe(false);
    expect(await s.park(holder!, [], null)).toBe(true);
    expect(await row(behind!)).toMatchObject({ status: "pending" });
    expect((await call(api.url, "POST", "/api/v1/trigger", { workflow_id: limited, delay_ms: 3_600_000 })).status).toBe(202);
    expect(await waiting.count()).toEqual({
      concurrency_slot: before.concurrency_slot + 1,
      parked: before.parked + 1,
      scheduled: before.scheduled + 1,
    });
  });

  test("runs_overdue_seconds and outbox_oldest_age_seconds: the oldest pending run past its start, parked run past its wake_at, outbox message (this topic's)", async () => {
    const waiting = new WaitingRuns(api.services.sql, api.services.log, api.config.runsTopic);
    const plain = (await call(api.url, "POST", "/api/v1/workflows", { name: unique("plain"), steps })).body.id as string;
    const limited = await createWorkflow(steps, { limit: 1 });
    const late = await trigger(plain);
    const parked = await trigger(plain);
    const behindLimit = await trigger(limited);
    const later = (await call(api.url, "POST", "/api/v1/trigger", { workflow_id: plain, delay_ms: 3_600_000 })).body.run_id as string;
    const ids = `{${[late, parked, behindLimit, later].join(",")}}`;
    const sql = api.services.sql;
    // On a topic of its own: the API's outbox relay would republish (and delete) a late row of its topic at once.
    const quietTopic = unique("runs-quiet");
    const quiet = new WaitingRuns(api.services.sql, api.services.log, quietTopic);
    const [outbox] = await sql<{ id: string }[]>`
      INSERT INTO outbox (topic, key, payload, created_at) VALUES (${quietTopic}, ${late}, '{}', now() - interval '2 minutes')
      RETURNING id::text`;
    try {
      await sql`UPDATE runs SET created_at = now() - interval '10 minutes' WHERE id = ${late}::uuid`;
      await sql`UPDATE runs SET status = 'running', started_at = now(), wake_at = now() - interval '5 minutes' WHERE id = ${parked}::uuid`;
      // late too, but waiting for its slot or for its run_at is no delay of the service's
      await sql`UPDATE runs SET created_at = now() - interval '1 hour' WHERE id = ANY(${`{${behindLimit},${later}}`}::uuid[])`;
      expect((await row(behindLimit)).status).toBe("pending");
      const l = await waiting.lateness();
      expect(l.pending).toBeGreaterThanOrEqual(600);
      expect(l.pending).toBeLessThan(660);
      expect(l.parked).toBeGreaterThanOrEqual(300);
      expect(l.parked).toBeLessThan(360);
      const { outbox: age } = await quiet.lateness();
      expect(age).toBeGreaterThanOrEqual(120);
      expect(age).toBeLessThan(180);
    } finally {
      await sql`DELETE FROM outbox WHERE id = ${outbox!.id}::bigint`;
      await sql`UPDATE runs SET status = 'cancelled', finished_at = now(), wake_at = NULL WHERE id = ANY(${ids}::uuid[])`;
    }
    expect(await waiting.lateness()).toMatchObject({ parked: 0 });
  });

  test("the reconciler republishes a plain pending run whose message was lost, not a delayed run nor one waiting for a slot", async () => {
    const limited = await createWorkflow(steps, { limit: 1 });
    const plain = (await call(api.url, "POST", "/api/v1/workflows", { name: unique("plain"), steps })).body.id as string;
    const holder = await trigger(limited);
    expect("why" in (await store().claim(holder))).toBe(false);
    const waiting = await trigger(limited);
    const delayed = (await call(api.url, "POST", "/api/v1/trigger", { workflow_id: plain, delay_ms: 3_600_000 })).body.run_id as string;
    const lost = await trigger(plain);
    const mine = [waiting, delayed, lost];
    await api.services.sql`DELETE FROM outbox WHERE key = ANY(${`{${mine.join(",")}}`}::text[])`;
    await api.services.sql`UPDATE runs SET updated_at = now() - interval '1 hour' WHERE id = ANY(${`{${mine.join(",")}}`}::uuid[])`;
    const reconciler = new Reconciler(api.services.sql, api.services.publisher, api.services.log, {
      topic: api.config.runsTopic,
      intervalMs: 1000,
      pendingStaleMs: 60_000,
      leaseMs: 60_000,
      batchSize: 1000,
    });
    await waitFor("a reconciler pass", async () => (await reconciler.runOnce()) > 0, 30_000, 200);
    const fresh = await api.services.sql<{ id: string; fresh: boolean }[]>`
      SELECT id, updated_at > now() - interval '1 minute' AS fresh FROM runs WHERE id = ANY(${`{${mine.join(",")}}`}::uuid[])`;
    expect(Object.fromEntries(fresh.map((t) => [t.id, t.fresh]))).toEqual({ [waiting]: false, [delayed]: false, [lost]: true });
    expect(await rows([waiting, delayed])).toMatchObject([
      { status: "pending", wake_at: null },
      { status: "pending", wake_at: expect.any(Date) },
    ]);
  });
});

describe("through real workers", () => {
  let workers: WorkerGroup;
  let env: Record<string, string>;
  beforeAll(() => {
    env = {
      ...groupEnv(api.config.runsTopic, unique("limits")),
      EGRESS_ALLOW: "127.0.0.2",
      PARK_AFTER_MS: "200",
      TIMER_POLL_MS: "20",
      RUN_LEASE_MS: "2000",
      RECONCILE_INTERVAL_MS: "300",
    };
    workers = startWorkers(3, env);
  });
  afterAll(async () => {
    await workers?.stopAll("SIGKILL");
  });

  const finished = (ids: string[], timeoutMs = 60_000) =>
    waitFor(
      `${ids.length} runs to finish`,
      async () => {
        const rs = await rows(ids);
        return rs.every((r) => ["completed", "failed", "cancelled"].includes(r.status)) ? rs : undefined;
      },
      timeoutMs,
      50,
    );

  test("200 runs triggered at once with a limit of 5: never more than 5 running (sampled continuously), all complete, started in trigger order", async () => {
    const wf = await createWorkflow(
      [
        { name: "hold", type: "wait_for_signal", if: "has(input.hold)", config: { signal: "go" } },
        // Long enough beside a slot's hand-over (the timer, Kafka, a claim) that the 5 slots fill up.
        { name: "work", type: "http", needs: ["hold"], config: { method: "GET", url: `http://127.0.0.2:${slow.port}/slow/250` } },
        { name: "done", type: "transform", needs: ["work"], config: { output: "{{input.i}}" } },
      ],
      { limit: 5 },
    );
    // Five runs take the five slots and park until signalled, so that the 200 are all stored
    // before the first of them starts: triggers made at the same instant are inserted by
    // concurrent statements, and their order (created_at, id) is only defined once all are stored.
    const holders = await triggerEach(wf, 5, { hold: true });
    await waitFor("the holders to start", async () => (await rows(holders)).every((r) => r.status === "running"), 30_000, 50);
    const ids = await Promise.all(Array.from({ length: 200 }, (_, i) => trigger(wf, { i })));
    expect((await rows(ids)).every((r) => r.status === "pending")).toBe(true);
    for (const h of holders) expect((await call(api.url, "POST", `/api/v1/runs/${h}/signals/go`, {})).status).toBe(202);

    // Sampled from PostgreSQL as fast as it answers, until every run is over.
    let most = 0;
    let samples = 0;
    for (const deadline = Date.now() + 150_000; Date.now() < deadline; samples++) {
      const [c] = await api.services.sql<{ running: number; open: number }[]>`
        SELECT count(*) FILTER (WHERE status = 'running')::int AS running,
               count(*) FILTER (WHERE status IN ('pending', 'running'))::int AS open
        FROM runs WHERE workflow_id = ${wf}::uuid`;
      most = Math.max(most, c!.running);
      if (c!.open === 0) break;
    }
    expect(samples).toBeGreaterThan(100);
    expect(most).toBe(5);

    const done = await rows([...holders, ...ids]);
    expect(done.filter((r) => r.status !== "completed")).toEqual([]);
    // Exactly: at no instant did more than 5 runs hold [started_at, finished_at).
    const events = done.flatMap((r) => [
      { t: r.started_at!.getTime(), d: 1 },
      { t: r.finished_at!.getTime(), d: -1 },
    ]);
    events.sort((a, b) => a.t - b.t || a.d - b.d);
    let open = 0;
    let peak = 0;
    for (const e of events) {
      open += e.d;
      peak = Math.max(peak, open);
    }
    expect(peak).toBe(5);

    // Trigger order (created_at, id) is start order.
    const batch = done.slice(5);
    const byTrigger = [...batch].sort((a, b) => a.created_at.getTime() - b.created_at.getTime() || (a.id < b.id ? -1 : 1)).map((r) => r.id);
    const byStart = [...batch].sort((a, b) => a.started_at!.getTime() - b.started_at!.getTime()).map((r) => r.id);
    expect(byStart).toEqual(byTrigger);
    expect(batch.every((r) => r.executions === 1)).toBe(true);
  }, 180_000);

  test("a limit keyed by {{input.customer}}: one customer's waiting run does not hold up another's; it starts once its own slot is free", async () => {
    const wf = await createWorkflow(
      [
        { name: "hold", type: "wait_for_signal", if: "has(input.hold) && input.hold", config: { signal: "go" } },
        { name: "done", type: "transform", needs: ["hold"], config: { output: "{{input.customer}}" } },
      ],
      { limit: 1, key: "{{input.customer}}" },
    );
    const a1 = await trigger(wf, { customer: "a", hold: true });
    await waitFor("a1 to park", async () => (await row(a1)).status === "running", 20_000, 50);
    const a2 = await trigger(wf, { customer: "a" });
    const bs = await triggerEach(wf, 3, { customer: "b" });
    const b = await finished(bs);
    expect(b.every((r) => r.status === "completed")).toBe(true);
    // Customer a's second run still waits behind its first, holding nothing.
    expect(await row(a2)).toMatchObject({ status: "pending", started_at: null, executions: 0 });
    expect((await row(a1)).status).toBe("running");

    expect((await call(api.url, "POST", `/api/v1/runs/${a1}/signals/go`, {})).status).toBe(202);
    const [r1, r2] = await finished([a1, a2]);
    expect([r1!.status, r2!.status]).toEqual(["completed", "completed"]);
    expect(r2!.started_at!.getTime()).toBeGreaterThanOrEqual(r1!.finished_at!.getTime());
    expect(r2!.executions).toBe(1);
  }, 60_000);

  test("a worker killed -9 holding the only slot: the run is resumed once its lease lapses, then the next one starts", async () => {
    const wf = await createWorkflow(
      [{ name: "call", type: "http", config: { method: "GET", url: `http://127.0.0.2:${slow.port}/slow/2500` } }],
      { limit: 1 },
    );
    const first = await trigger(wf);
    await waitFor("the first run to start", async () => (await row(first)).status === "running", 20_000, 20);
    const second = await trigger(wf);
    await Bun.sleep(300);
    await workers.stopAll("SIGKILL");
    expect(await row(second)).toMatchObject({ status: "pending", started_at: null });
    workers = startWorkers(2, env);
    const [a, b] = await finished([first, second], 60_000);
    expect([a!.status, b!.status]).toEqual(["completed", "completed"]);
    expect(a!.executions).toBe(2);
    expect(b!.started_at!.getTime()).toBeGreaterThanOrEqual(a!.finished_at!.getTime());
  }, 90_000);
});
