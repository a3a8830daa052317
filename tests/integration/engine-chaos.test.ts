import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, createWorkflow as createWorkflowOn, startApi, type TestApi, triggerRun, unique, waitFor } from "../support/api.ts";
import { startTarget } from "../support/target.ts";
import { groupEnv, startWorkers, type WorkerGroup } from "../support/workers.ts";

// Every Version 2 feature at once — a graph with a parking delay, a for_each of http calls, a child
// run, a signal wait — while workers are killed -9 at random and replaced. Each http call answers
// with how many times its path was called (support/target.ts), so a step's recorded output says
// which call it kept.
const target = startTarget();
const { hits, url: T } = target;

let api: TestApi;
let workers: WorkerGroup;
beforeAll(async () => {
  api = await startApi();
  workers = startWorkers(3, {
    ...groupEnv(api.config.runsTopic, unique("chaos")),
    EGRESS_ALLOW: "127.0.0.2",
    RUN_LEASE_MS: "2000",
    RECONCILE_INTERVAL_MS: "500",
    PARK_AFTER_MS: "100",
    TIMER_POLL_MS: "50",
  });
});
afterAll(async () => {
  await workers?.stopAll("SIGKILL");
  await api.stop();
  target.stop();
});

const createWorkflow = (steps: unknown[]) => createWorkflowOn(api.url, { name: unique("chaos"), steps });
const trigger = (workflowId: string, input: unknown) => triggerRun(api.url, { workflow_id: workflowId, input });

type Step = { name: string; status: string; output?: { body?: { n: number; path: string } } & Record<string, unknown> };
type Row = { id: string; status: string; error: string | null; output: unknown; steps: Step[]; parent_run_id: string | null };
const rows = (ids: string[]) =>
  api.services.sql<Row[]>`SELECT id, status, error, output, steps, parent_run_id FROM runs WHERE id = ANY(${`{${ids.join(",")}}`}::uuid[])`;

describe("the engine under kill -9", () => {
  test("graphs, fan-outs, child runs and signals with workers killed at random: every run completes once, and every recorded http step kept the last call made", async () => {
    const tag = unique("c");
    const graph = await createWorkflow([
      { name: "a", type: "http", config: { method: "GET", url: `${T}/${tag}/{{input.k}}/a` } },
      { name: "b", type: "delay", config: { ms: 300 }, needs: ["a"] },
      { name: "c", type: "http", config: { method: "GET", url: `${T}/${tag}/{{input.k}}/c` }, needs: ["a"] },
      { name: "d", type: "transform", config: { output: { a: "{{steps.a.body.n}}" } }, needs: ["b", "c"] },
    ]);
    const fan = await createWorkflow([
      {
        name: "each",
        type: "http",
        config: { method: "GET", url: `${T}/${tag}/{{input.k}}/each/{{index}}` },
        for_each: "input.items",
        concurrency: 5,
      },
    ]);
    const child = await createWorkflow([
      { name: "call", type: "http", config: { method: "GET", url: `${T}/${tag}/child-{{input.k}}/call` } },
      { name: "pause", type: "delay", config: { ms: 250 } },
      { name: "answer", type: "transform", config: { output: "child {{input.k}}" } },
    ]);
    const parent = await createWorkflow([{ name: "run", type: "workflow", config: { workflow_id: child, input: { k: "{{input.k}}" } } }]);
    const signal = await createWorkflow([
      { name: "wait", type: "wait_for_signal", config: { signal: "go" } },
      { name: "after", type: "http", config: { method: "GET", url: `${T}/${tag}/{{input.k}}/after` } },
    ]);

    const N = 30;
    const items = Array.from({ length: 10 }, (_, i) => i);
    const ids = { graph: [] as string[], fan: [] as string[], parent: [] as string[], signal: [] as string[] };
    for (let k = 0; k < N; k++) {
      ids.graph.push(await trigger(graph, { k }));
      ids.fan.push(await trigger(fan, { k: `f${k}`, items }));
      ids.parent.push(await trigger(parent, { k }));
      ids.signal.push(await trigger(signal, { k: `s${k}` }));
    }
    let kills = 0;
    const churn = (async () => {
      for (; kills < 6; kills++) {
        await Bun.sleep(400 + Math.random() * 600);
        const live = workers.procs.filter((w) => w.exitCode === null && w.signalCode === null);
        const victim = live[Math.floor(Math.random() * live.length)]!;
        victim.kill("SIGKILL");
        await victim.exited;
        workers.add();
      }
    })();
    // The signals, sent at random moments of the churn (some before their wait starts).
    await Promise.all(
      ids.signal.map(async (id) => {
        await Bun.sleep(Math.random() * 3000);
        expect((await call(api.url, "POST", `/api/v1/runs/${id}/signals/go`, { ok: true })).status).toBe(202);
      }),
    );
    await churn;
    expect(kills).toBe(6);

    const all = [...ids.graph, ...ids.fan, ...ids.parent, ...ids.signal];
    const done = await waitFor(
      `${all.length} runs to finish`,
      async () => {
        const r = await rows(all);
        return r.length === all.length && r.every((x) => ["completed", "failed", "cancelled"].includes(x.status)) ? r : undefined;
      },
      120_000,
      250,
    );
    expect(done.filter((r) => r.status !== "completed").map((r) => [r.id, r.status, r.error])).toEqual([]);
    const byId = new Map(done.map((r) => [r.id, r]));

    // A recorded http step kept the last call made to its path: no call came after it was recorded.
    const kept = (step: Step | undefined) => {
      const body = step?.output?.body;
      expect(body).toBeDefined();
      expect(body!.n).toBe(hits.get(body!.path)!);
    };
    for (const [k, id] of ids.graph.entries()) {
      const r = byId.get(id)!;
      expect(r.steps.map((s) => [s.name, s.status])).toEqual(["a", "b", "c", "d"].map((n) => [n, "completed"]));
      kept(r.steps[0]);
      kept(r.steps[2]);
      expect(r.output).toEqual({ d: { a: hits.get(`/${tag}/${k}/a`) } });
    }
    for (const id of ids.fan) {
      const out = byId.get(id)!.output as { body: { n: number; path: string } }[];
      expect(out.map((o) => o.body.path.split("/").at(-1))).toEqual(items.map(String));
      for (const o of out) expect(o.body.n).toBe(hits.get(o.body.path)!);
    }
    const children = await api.services.sql<{ parent_run_id: string; n: number }[]>`
      SELECT parent_run_id::text, count(*)::int AS n FROM runs WHERE parent_run_id = ANY(${`{${ids.parent.join(",")}}`}::uuid[]) GROUP BY 1`;
    expect(children.length).toBe(N);
    for (const c of children) expect(c.n).toBe(1);
    for (const [k, id] of ids.parent.entries()) expect(byId.get(id)!.output).toBe(`child ${k}`);
    for (const id of ids.signal) {
      const r = byId.get(id)!;
      expect(r.steps[0]).toMatchObject({ name: "wait", status: "completed", output: { ok: true } });
      kept(r.steps[1]);
    }
  }, 180_000);
});
