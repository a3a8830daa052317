import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ExecutionStore } from "@wf/services/execution";
import { Timers } from "@wf/services/timers";
import { call, createWorkflow as createWorkflowOn, startApi, type TestApi, triggerRun, unique, waitFor } from "../support/api.ts";
import { groupEnv, startWorkers, type WorkerGroup } from "../support/workers.ts";

// Runs that start later (POST /api/v1/trigger with run_at or delay_ms): stored pending with their
// wake_at and no message; the one timer of the code base publishes them when due, across restarts.

let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.stop();
});

const createWorkflow = () =>
  createWorkflowOn(api.url, { name: unique("later"), steps: [{ name: "only", type: "transform", config: { output: "{{input.n}}" } }] });
const trigger = (body: Record<string, unknown>) => triggerRun(api.url, body);

interface Row {
  status: string;
  wake_at: Date | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
  output: unknown;
  executions: number;
}
const row = async (id: string) =>
  (
    await api.services.sql<Row[]>`
      SELECT status, wake_at, created_at, started_at, finished_at, updated_at, output, executions FROM runs WHERE id = ${id}::uuid`
  )[0]!;

describe("the timer and the claim", () => {
  test("an early message is refused, holding nothing; the timer publishes the run when due and says when the next one is", async () => {
    const wf = await createWorkflow();
    const runAt = new Date(Date.now() + 1500);
    const id = await trigger({ workflow_id: wf, run_at: runAt.toISOString() });
    const later = await trigger({ workflow_id: wf, delay_ms: 600_000 });
    const store = new ExecutionStore(api.services.sql, unique("owner"), 60_000);
    const before = await row(id);
    expect(await store.claim(id)).toEqual({ why: "scheduled" });
    expect(await row(id)).toEqual(before);

    const timers = new Timers(api.services.sql, api.services.publisher, api.services.log, {
      topic: api.config.runsTopic,
      pollMs: 60_000,
      batchSize: 100,
    });
    const early = await timers.runOnce();
    expect(early.woken).toBe(0);
    expect(early.nextInMs).toBeGreaterThan(0);
    expect(early.nextInMs).toBeLessThanOrEqual(1500);

    await Bun.sleep(Math.max(0, runAt.getTime() - Date.now()) + 20);
    const due = await timers.runOnce();
    expect(due.woken).toBe(1);
    // The next one known is the run ten minutes away.
    expect(due.nextInMs).toBeGreaterThan(590_000);
    const taken = await row(id);
    expect(taken).toMatchObject({ status: "pending", wake_at: null });
    expect(taken.updated_at.getTime()).toBeGreaterThan(before.updated_at.getTime());

    const claimed = await store.claim(id);
    expect("why" in claimed).toBe(false);
    expect(await store.finish(id, "completed", [], null, null)).toBeDefined();
    // The ten-minute run is still waiting, untouched.
    expect(await row(later)).toMatchObject({ status: "pending", executions: 0 });
    expect(await store.claim(later)).toEqual({ why: "scheduled" });
  });

  test("a delayed run cancelled before its time is never started", async () => {
    const wf = await createWorkflow();
    const id = await trigger({ workflow_id: wf, delay_ms: 300 });
    expect((await call(api.url, "POST", `/api/v1/runs/${id}/cancel`)).status).toBe(200);
    expect(await row(id)).toMatchObject({ status: "cancelled", wake_at: null, started_at: null });
  });
});

describe("through real workers", () => {
  let workers: WorkerGroup;
  let env: Record<string, string>;
  beforeAll(() => {
    env = {
      ...groupEnv(api.config.runsTopic, unique("later")),
    };
    workers = startWorkers(1, env);
  });
  afterAll(async () => {
    await workers?.stopAll("SIGKILL");
  });

  const finished = (id: string, timeoutMs = 30_000) =>
    waitFor(
      `run ${id} to finish`,
      async () => ((r) => (["completed", "failed", "cancelled"].includes(r.status) ? r : undefined))(await row(id)),
      timeoutMs,
      20,
    );

  test("delay_ms: the run starts that long after it was triggered, to within 150 ms", async () => {
    const wf = await createWorkflow();
    // A first run, so that the worker has joined its group.
    await finished(await trigger({ workflow_id: wf, input: { n: 0 } }), 60_000);
    const id = await trigger({ workflow_id: wf, input: { n: 1 }, delay_ms: 1500 });
    expect((await row(id)).status).toBe("pending");
    const r = await finished(id);
    expect(r).toMatchObject({ status: "completed", output: 1, executions: 1 });
    const late = r.started_at!.getTime() - (r.created_at.getTime() + 1500);
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThanOrEqual(150);
  });

  test("run_at 3 s ahead starts within 100 ms of its time, after the API and every worker were restarted", async () => {
    const wf = await createWorkflow();
    // The workers go first: a worker's graceful stop takes seconds (it waits for its consumer's
    // fetch), more than the 3 s, and a killed one holds its partitions until its session expires.
    await workers.stopAll("SIGTERM");
    const runAt = new Date(Date.now() + 3000);
    const id = await trigger({ workflow_id: wf, input: { n: 2 }, run_at: runAt.toISOString() });
    expect((await row(id)).wake_at).toEqual(runAt);

    // Then the API that took the trigger, and everything comes back: no process that saw the
    // trigger is left, the run's time lives in PostgreSQL only.
    const topic = api.config.runsTopic;
    await api.stop();
    api = await startApi({ runsTopic: topic });
    workers = startWorkers(1, env);
    expect(Date.now()).toBeLessThan(runAt.getTime() - 1000);
    expect((await row(id)).status).toBe("pending");

    const r = await finished(id);
    expect(r).toMatchObject({ status: "completed", output: 2, executions: 1 });
    const late = r.started_at!.getTime() - runAt.getTime();
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThanOrEqual(100);
  });
});
