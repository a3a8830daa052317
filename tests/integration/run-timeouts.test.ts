import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, startApi, type TestApi, unique, waitFor } from "../support/api.ts";
import { startTarget } from "../support/target.ts";
import { groupEnv, startWorkers, type WorkerGroup } from "../support/workers.ts";

// A workflow's `timeout_ms` through real workers: it bounds a run's total time from its start,
// parked time included, beside the server's RUN_TIMEOUT_MS per execution.

const target = startTarget();
// /slow/<tag>/<ms>: answers after ms.
const SLOW = `${target.url}/slow/timeouts`;

let api: TestApi;
let workers: WorkerGroup;
beforeAll(async () => {
  api = await startApi();
  workers = startWorkers(1, {
    ...groupEnv(api.config.runsTopic, unique("timeouts")),
    EGRESS_ALLOW: "127.0.0.2",
    PARK_AFTER_MS: "200",
    TIMER_POLL_MS: "20",
  });
});
afterAll(async () => {
  await workers?.stopAll("SIGKILL");
  await api.stop();
  target.stop();
});

const run = async (steps: unknown[], timeoutMs: number) => {
  const wf = await call(api.url, "POST", "/api/v1/workflows", { name: unique("timed"), steps, timeout_ms: timeoutMs });
  expect(wf.status).toBe(201);
  const r = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: wf.body.id });
  expect(r.status).toBe(202);
  return r.body.run_id as string;
};
interface Row {
  status: string;
  error: string | null;
  started_at: Date | null;
  finished_at: Date | null;
  lease_owner: string | null;
  wake_at: Date | null;
  steps: { name: string; status: string; error?: string }[];
}
const row = async (id: string) =>
  (
    await api.services.sql<
      Row[]
    >`SELECT status, error, started_at, finished_at, lease_owner, wake_at, steps FROM runs WHERE id = ${id}::uuid`
  )[0]!;
const finished = (id: string) =>
  waitFor(
    `run ${id} to finish`,
    async () => ((r) => (["completed", "failed", "cancelled"].includes(r.status) ? r : undefined))(await row(id)),
    60_000,
    20,
  );
const lasted = (r: Row) => r.finished_at!.getTime() - r.started_at!.getTime();

describe("a workflow's timeout_ms", () => {
  test("fails a run still working when it is over: the step in flight is stopped", async () => {
    const id = await run([{ name: "call", type: "http", config: { method: "GET", url: `${SLOW}/5000` } }], 1000);
    const r = await finished(id);
    expect(r).toMatchObject({ status: "failed", error: "run exceeded its workflow's timeout_ms of 1000 ms" });
    expect(r.steps).toMatchObject([{ name: "call", status: "cancelled", error: "stopped: timeout" }]);
    expect(lasted(r)).toBeGreaterThanOrEqual(1000);
    expect(lasted(r)).toBeLessThan(2500);
  });

  test("fails a parked run when it is over: the run is woken at its deadline, not at its delay's end", async () => {
    const id = await run(
      [
        { name: "first", type: "transform", config: { output: 1 } },
        { name: "pause", type: "delay", config: { ms: 60_000 } },
      ],
      1500,
    );
    const parked = await waitFor(
      "the run to park",
      async () => ((r) => (r.status === "running" && r.lease_owner === null ? r : undefined))(await row(id)),
      20_000,
      20,
    );
    expect(parked.wake_at!.getTime()).toBe(parked.started_at!.getTime() + 1500);
    const r = await finished(id);
    expect(r).toMatchObject({ status: "failed", error: "run exceeded its workflow's timeout_ms of 1500 ms" });
    expect(r.steps).toMatchObject([
      { name: "first", status: "completed" },
      { name: "pause", status: "cancelled", error: "stopped: timeout" },
    ]);
    expect(lasted(r)).toBeGreaterThanOrEqual(1500);
    expect(lasted(r)).toBeLessThan(3000);
  });

  test("fails a run parked on a signal that has no timeout of its own", async () => {
    const id = await run([{ name: "approval", type: "wait_for_signal", config: { signal: "approve" } }], 1200);
    const r = await finished(id);
    expect(r).toMatchObject({ status: "failed", error: "run exceeded its workflow's timeout_ms of 1200 ms" });
    expect(r.steps).toMatchObject([{ name: "approval", status: "cancelled", error: "stopped: timeout" }]);
    expect(lasted(r)).toBeLessThan(3000);
  });

  test("counts the time parked: a run resumed after a wait has only the rest of its timeout", async () => {
    // 800 ms parked, then a 2 s call: the 1.5 s run timeout ends it during the call.
    const id = await run(
      [
        { name: "pause", type: "delay", config: { ms: 800 } },
        { name: "call", type: "http", config: { method: "GET", url: `${SLOW}/2000` } },
      ],
      1500,
    );
    const r = await finished(id);
    expect(r).toMatchObject({ status: "failed", error: "run exceeded its workflow's timeout_ms of 1500 ms" });
    expect(r.steps).toMatchObject([
      { name: "pause", status: "completed" },
      { name: "call", status: "cancelled", error: "stopped: timeout" },
    ]);
    expect(lasted(r)).toBeGreaterThanOrEqual(1500);
    expect(lasted(r)).toBeLessThan(2700);
  });

  test("a run that ends in time is not touched by it", async () => {
    const id = await run([{ name: "call", type: "http", config: { method: "GET", url: `${SLOW}/50` } }], 5000);
    expect(await finished(id)).toMatchObject({ status: "completed", error: null });
  });
});
