import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, createWorkflow as createWorkflowOn, startApi, type TestApi, triggerRun, unique, waitFor } from "../support/api.ts";
import { startTarget } from "../support/target.ts";
import { groupEnv, startWorkers, type WorkerGroup } from "../support/workers.ts";

// Version 2's engine through real workers: steps as a graph, conditions, fan-out, and waits that
// park the run in PostgreSQL instead of holding a worker. The http target counts calls per path.
const target = startTarget();
const { hits, inFlight, url: T } = target;

let api: TestApi;
let workers: WorkerGroup;
let env: Record<string, string>;
beforeAll(async () => {
  api = await startApi();
  env = {
    ...groupEnv(api.config.runsTopic, unique("waits")),
    EGRESS_ALLOW: "127.0.0.2",
    RUN_LEASE_MS: "3000",
    RECONCILE_INTERVAL_MS: "1000",
    // One run at a time per worker: a wait that held its worker would hold up every other run.
    WORKER_CONCURRENCY: "1",
    PARK_AFTER_MS: "200",
    TIMER_POLL_MS: "50",
    CHILD_RUN_MAX_DEPTH: "3",
  };
  workers = startWorkers(1, env);
});
afterAll(async () => {
  await workers?.stopAll("SIGKILL");
  await api.stop();
  target.stop();
});

const createWorkflow = (steps: unknown[]) => createWorkflowOn(api.url, { name: unique("wf"), steps });
const trigger = (workflowId: string, input: unknown = {}) => triggerRun(api.url, { workflow_id: workflowId, input });

type Row = {
  status: string;
  lease_owner: string | null;
  wake_at: Date | null;
  output: unknown;
  steps: {
    name: string;
    status: string;
    attempts: number;
    started_at: string;
    finished_at: string | null;
    wait?: { until?: string; child_run_id?: string; signal?: string };
  }[];
};
const row = async (id: string) =>
  (await api.services.sql<Row[]>`SELECT status, lease_owner, wake_at, output, steps FROM runs WHERE id = ${id}::uuid`)[0]!;
const finished = (id: string, timeoutMs = 30_000) =>
  waitFor(
    `run ${id} to finish`,
    async () => ((r) => (["completed", "failed", "cancelled"].includes(r.status) ? r : undefined))(await row(id)),
    timeoutMs,
    50,
  );
/** Parked: running, no worker holds it, a step waiting (with or without a wake-up time). */
const parked = (id: string) =>
  waitFor(
    `run ${id} to park`,
    async () =>
      ((r) => (r.status === "running" && r.lease_owner === null && r.steps.some((s) => s.status === "waiting") ? r : undefined))(
        await row(id),
      ),
    20_000,
    50,
  );

describe("the engine through real workers", () => {
  test("a delay longer than PARK_AFTER_MS parks the run: the worker is free for other runs, and the run completes when due", async () => {
    const tag = unique("park");
    const slow = await createWorkflow([
      { name: "before", type: "http", config: { method: "GET", url: `${T}/hit/${tag}-{{input.k}}` } },
      { name: "pause", type: "delay", config: { ms: 2_000 } },
      { name: "after", type: "transform", config: { output: "{{steps.before.body.n}}" } },
    ]);
    const quick = await createWorkflow([{ name: "only", type: "transform", config: { output: "quick" } }]);
    const waiting = await Promise.all([0, 1, 2].map((k) => trigger(slow, { k })));
    for (const id of waiting) {
      const r = await parked(id);
      expect(r.steps.map((s) => [s.name, s.status])).toEqual([
        ["before", "completed"],
        ["pause", "waiting"],
      ]);
      expect(Date.parse(r.steps[1]!.wait!.until!)).toBe(r.wake_at!.getTime());
    }
    // The one worker runs one run at a time: it only gets to this one because the others hold nothing.
    const q = await finished(await trigger(quick));
    expect(q).toMatchObject({ status: "completed", output: "quick" });
    for (const id of waiting) expect((await row(id)).status).toBe("running");

    for (const [k, id] of waiting.entries()) {
      const r = await finished(id);
      expect(r.status).toBe("completed");
      expect(r.output).toBe(1);
      const pause = r.steps[1]!;
      expect(Date.parse(pause.finished_at!) - Date.parse(pause.started_at)).toBeGreaterThanOrEqual(2_000);
      expect(hits.get(`/hit/${tag}-${k}`)).toBe(1);
    }
  });

  test("a parked run resumes after every worker was killed -9 and new ones started; its recorded step does not run again", async () => {
    const tag = unique("kill");
    const wf = await createWorkflow([
      { name: "before", type: "http", config: { method: "GET", url: `${T}/hit/${tag}` } },
      { name: "pause", type: "delay", config: { ms: 3_000 } },
      { name: "after", type: "http", config: { method: "GET", url: `${T}/hit/${tag}-after` } },
    ]);
    const id = await trigger(wf);
    await parked(id);
    await workers.stopAll("SIGKILL");
    workers = startWorkers(1, env);
    const r = await finished(id);
    expect(r.status).toBe("completed");
    expect(hits.get(`/hit/${tag}`)).toBe(1);
    expect(hits.get(`/hit/${tag}-after`)).toBe(1);
  });

  test("a retry backoff longer than PARK_AFTER_MS parks the run between attempts", async () => {
    const tag = unique("flaky");
    const wf = await createWorkflow([
      {
        name: "call",
        type: "http",
        config: { method: "GET", url: `${T}/flaky/${tag}/1` },
        retry: { max_attempts: 3, backoff_ms: 1_000 },
      },
    ]);
    const id = await trigger(wf);
    const p = await parked(id);
    expect(p.steps[0]).toMatchObject({ name: "call", status: "waiting", attempts: 1, wait: { retry: true } });
    const r = await finished(id);
    expect(r.status).toBe("completed");
    expect(r.steps[0]).toMatchObject({ status: "completed", attempts: 2 });
    expect(hits.get(`/flaky/${tag}/1`)).toBe(2);
  });

  test("a diamond's two middle steps run at the same time; the run's output holds its leaf's", async () => {
    const wf = await createWorkflow([
      { name: "start", type: "transform", config: { output: "{{input.x}}" } },
      { name: "left", type: "delay", config: { ms: 150 }, needs: ["start"] },
      { name: "right", type: "delay", config: { ms: 150 }, needs: ["start"] },
      { name: "join", type: "transform", config: { output: { x: "{{steps.start}}" } }, needs: ["left", "right"] },
    ]);
    const r = await finished(await trigger(wf, { x: 7 }));
    expect(r).toMatchObject({ status: "completed", output: { join: { x: 7 } } });
    const [, left, right, join] = r.steps;
    expect(right!.started_at < left!.finished_at!).toBe(true);
    expect(left!.started_at < right!.finished_at!).toBe(true);
    expect(join!.started_at >= left!.finished_at! && join!.started_at >= right!.finished_at!).toBe(true);
  });

  test("an if that is false skips its step and the steps that need only it; the other branch runs", async () => {
    const wf = await createWorkflow([
      { name: "start", type: "transform", config: { output: "{{input.go}}" } },
      { name: "yes", type: "transform", config: { output: "yes" }, needs: ["start"], if: "input.go == true" },
      { name: "after_yes", type: "transform", config: { output: "after" }, needs: ["yes"] },
      { name: "no", type: "transform", config: { output: "no" }, needs: ["start"], if: "input.go == false" },
    ]);
    const r = await finished(await trigger(wf, { go: false }));
    expect(r).toMatchObject({ status: "completed", output: { after_yes: null, no: "no" } });
    expect(r.steps.map((s) => [s.name, s.status])).toEqual([
      ["start", "completed"],
      ["yes", "skipped"],
      ["after_yes", "skipped"],
      ["no", "completed"],
    ]);
  });

  test("a for_each over 100 items with concurrency 10 never has more than 10 in flight; its output is in item order", async () => {
    const tag = unique("each");
    const wf = await createWorkflow([
      {
        name: "each",
        type: "http",
        config: { method: "GET", url: `${T}/slow/${tag}/15?i={{index}}` },
        for_each: "input.items",
        concurrency: 10,
      },
    ]);
    const items = Array.from({ length: 100 }, (_, i) => `item-${i}`);
    const r = await finished(await trigger(wf, { items }));
    expect(r.status).toBe("completed");
    expect(inFlight.get(tag)?.most).toBe(10);
    expect((r.output as { body: { i: number } }[]).map((o) => o.body.i)).toEqual(items.map((_, i) => i));
  });

  test("on_error: continue lets the run go on, and later steps see the failure", async () => {
    const wf = await createWorkflow([
      { name: "call", type: "http", config: { method: "GET", url: `${T}/broken/x` }, on_error: "continue" },
      { name: "fallback", type: "transform", config: { output: "used the fallback" }, if: 'steps.call.status == "failed"' },
    ]);
    const r = await finished(await trigger(wf));
    expect(r).toMatchObject({ status: "completed", output: "used the fallback" });
    expect(r.steps[0]).toMatchObject({ name: "call", status: "failed" });
  });

  test("a definition replaced while its run is parked does not change what that run executes", async () => {
    const steps = (v: string) => [
      { name: "pause", type: "delay", config: { ms: 1_500 } },
      { name: "result", type: "transform", config: { output: v } },
    ];
    const wf = await createWorkflow(steps("v1"));
    const id = await trigger(wf);
    await parked(id);
    const put = await call(api.url, "PUT", `/api/v1/workflows/${wf}`, { name: unique("wf"), steps: steps("v2") });
    expect(put.status).toBe(200);
    expect(await finished(id)).toMatchObject({ status: "completed", output: "v1" });
  });

  test("a signal sent before its step waits is kept and taken; one sent while the run is parked wakes it", async () => {
    // The first wait starts after a short pause (held in the worker, under PARK_AFTER_MS), so the
    // first signal is surely sent before it.
    const wf = await createWorkflow([
      { name: "pause", type: "delay", config: { ms: 150 } },
      { name: "first", type: "wait_for_signal", config: { signal: "approval" } },
      { name: "second", type: "wait_for_signal", config: { signal: "approval" } },
      { name: "both", type: "transform", config: { output: ["{{steps.first.by}}", "{{steps.second.by}}"] } },
    ]);
    const id = await trigger(wf);
    expect((await call(api.url, "POST", `/api/v1/runs/${id}/signals/approval`, { by: "early" })).status).toBe(202);
    const p = await parked(id);
    expect(p.steps.map((s) => [s.name, s.status])).toEqual([
      ["pause", "completed"],
      ["first", "completed"],
      ["second", "waiting"],
    ]);
    expect((await call(api.url, "POST", `/api/v1/runs/${id}/signals/approval`, { by: "late" })).status).toBe(202);
    expect(await finished(id)).toMatchObject({ status: "completed", output: ["early", "late"] });
  });

  test("a signal wait times out: the step fails, and the run with it", async () => {
    const wf = await createWorkflow([{ name: "wait", type: "wait_for_signal", config: { signal: "never", timeout_ms: 500 } }]);
    const r = await finished(await trigger(wf));
    expect(r.status).toBe("failed");
    expect(r.steps[0]).toMatchObject({ name: "wait", status: "failed" });
  });

  test("a child workflow's output reaches its parent; the child records its parent; the parent parks meanwhile", async () => {
    const child = await createWorkflow([
      { name: "pause", type: "delay", config: { ms: 600 } },
      { name: "answer", type: "transform", config: { output: { doubled: "{{input.n}}{{input.n}}" } } },
    ]);
    const parent = await createWorkflow([
      { name: "call", type: "workflow", config: { workflow_id: child, input: { n: "{{input.n}}" } } },
      { name: "use", type: "transform", config: { output: "{{steps.call.doubled}}" } },
    ]);
    const id = await trigger(parent, { n: 4 });
    const p = await parked(id);
    const childId = p.steps[0]!.wait!.child_run_id!;
    const r = await finished(id);
    expect(r).toMatchObject({ status: "completed", output: "44" });
    const c = await call(api.url, "GET", `/api/v1/runs/${childId}`);
    expect(c.body).toMatchObject({ status: "completed", parent_run_id: id, output: { doubled: "44" } });
  });

  test("a child's failure fails the parent's step, after the step's retries (a new child each)", async () => {
    const child = await createWorkflow([{ name: "boom", type: "http", config: { method: "GET", url: `${T}/broken/child` } }]);
    const parent = await createWorkflow([
      { name: "call", type: "workflow", config: { workflow_id: child }, retry: { max_attempts: 2, backoff_ms: 10 } },
    ]);
    const id = await trigger(parent);
    const r = await finished(id);
    expect(r.status).toBe("failed");
    expect(r.steps[0]).toMatchObject({ name: "call", status: "failed", attempts: 2 });
    const children = await api.services.sql<{ status: string }[]>`SELECT status FROM runs WHERE parent_run_id = ${id}::uuid`;
    expect(children.map((c) => c.status)).toEqual(["failed", "failed"]);
  });

  test("cancelling a parked parent cancels its running child; the parent's waiting step is recorded cancelled", async () => {
    const child = await createWorkflow([{ name: "long", type: "delay", config: { ms: 60_000 } }]);
    const parent = await createWorkflow([{ name: "call", type: "workflow", config: { workflow_id: child } }]);
    const id = await trigger(parent);
    const p = await parked(id);
    const childId = p.steps[0]!.wait!.child_run_id!;
    await parked(childId);
    expect((await call(api.url, "POST", `/api/v1/runs/${id}/cancel`)).status).toBe(200);
    const r = await row(id);
    expect(r.status).toBe("cancelled");
    expect(r.wake_at).toBeNull();
    expect(r.steps[0]).toMatchObject({ status: "cancelled" });
    expect((await row(childId)).status).toBe("cancelled");
  });

  test("a workflow that starts itself stops at CHILD_RUN_MAX_DEPTH: the deepest step fails, and each parent with it", async () => {
    const wf = await createWorkflow([{ name: "noop", type: "transform", config: { output: 1 } }]);
    const put = await call(api.url, "PUT", `/api/v1/workflows/${wf}`, {
      name: unique("wf"),
      steps: [{ name: "again", type: "workflow", config: { workflow_id: wf } }],
    });
    expect(put.status).toBe(200);
    const id = await trigger(wf);
    const r = await finished(id);
    expect(r.status).toBe("failed");
    const tree = await api.services.sql<{ depth: number; status: string; error: string | null }[]>`
      WITH RECURSIVE down (id, depth) AS (SELECT ${id}::uuid, 1 UNION ALL SELECT r.id, down.depth + 1 FROM runs r JOIN down ON r.parent_run_id = down.id)
      SELECT down.depth, runs.status, runs.error FROM down JOIN runs USING (id) ORDER BY down.depth`;
    expect(tree.map((t) => [t.depth, t.status])).toEqual([
      [1, "failed"],
      [2, "failed"],
      [3, "failed"],
    ]);
    expect(tree[2]!.error).toContain("nest at most 3 deep");
  });
});
