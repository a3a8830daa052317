import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newId } from "@wf/core/ids";
import { call, createWorkflow as createWorkflowOn, startApi, type TestApi, triggerRun, unique, waitFor } from "../support/api.ts";
import { clientOf, type RunBody } from "../support/client.ts";
import { startTarget } from "../support/target.ts";
import { groupEnv, startWorkers, type WorkerGroup } from "../support/workers.ts";

// POST /api/v1/runs/{id}/replay (Bun API only) through real workers: a replay is a new run of the
// original's pinned definition whose steps outside the start's descendants keep the original's
// results (reused: true) and are not executed again; the http target counts what was.
const target = startTarget();
const { hits, url: T } = target;

let api: TestApi;
let workers: WorkerGroup;
beforeAll(async () => {
  api = await startApi();
  workers = startWorkers(1, {
    ...groupEnv(api.config.runsTopic, unique("replays")),
    EGRESS_ALLOW: "127.0.0.2",
    RUN_LEASE_MS: "3000",
    RECONCILE_INTERVAL_MS: "1000",
  });
});
afterAll(async () => {
  await workers?.stopAll("SIGKILL");
  await api.stop();
  target.stop();
});

const createWorkflow = (steps: unknown[]) => createWorkflowOn(api.url, { name: unique("replayed"), steps });
// Through the typed client: a change of the run's schema that breaks this test fails the type check.
const getRun = async (id: string): Promise<RunBody> => {
  const { data, status } = await clientOf(api).api.v1.runs({ id }).get();
  if (!data) throw new Error(`GET /api/v1/runs/${id} answered ${status}`);
  return data;
};
const finished = (id: string) =>
  waitFor(`run ${id} to finish`, async () =>
    ((r) => (["completed", "failed", "cancelled"].includes(r.status) ? r : undefined))(await getRun(id)),
  );
const replay = (id: string, body?: unknown) => call(api.url, "POST", `/api/v1/runs/${id}/replay`, body);
/** Replays and waits for the new run to finish. */
const replayed = async (id: string, body?: unknown) => {
  const r = await replay(id, body);
  expect(r.status).toBe(202);
  expect(r.body).toEqual({ run_id: expect.any(String), status: "pending", replay_of: id });
  expect(r.body.run_id).not.toBe(id);
  return finished(r.body.run_id);
};
const get = (name: string, path: string) => ({ name, type: "http", config: { method: "GET", url: `${T}${path}` } });
const byName = (run: RunBody) => Object.fromEntries(run.steps.map((s) => [s.name, s]));

describe("POST /api/v1/runs/{id}/replay", () => {
  test("a failed 3-step list: only the failed step and what follows execute again; the first is reused", async () => {
    const tag = unique("v1");
    const wf = await createWorkflow([
      get("first", `/first/${tag}`),
      { ...get("second", `/flaky/${tag}/1`), retry: { max_attempts: 1, backoff_ms: 1 } },
      get("third", `/third/${tag}`),
    ]);
    const original = await finished(await triggerRun(api.url, { workflow_id: wf }));
    expect(original.status).toBe("failed");
    expect(original.steps.map((s) => [s.name, s.status])).toEqual([
      ["first", "completed"],
      ["second", "failed"],
    ]);
    expect(original.replay_of).toBeNull();

    // The flaky path fails only its first call: the replay succeeds.
    const run = await replayed(original.id);
    expect(run).toMatchObject({ status: "completed", replay_of: original.id, workflow_version: 1, input: original.input });
    expect([hits.get(`/first/${tag}`), hits.get(`/flaky/${tag}/1`), hits.get(`/third/${tag}`)]).toEqual([1, 2, 1]);
    const steps = byName(run);
    expect(steps.first).toEqual({ ...original.steps[0]!, reused: true });
    expect(steps.second).toMatchObject({ status: "completed", attempts: 1 });
    expect(steps.second!.reused).toBeUndefined();
    expect(steps.third!.reused).toBeUndefined();
    expect(run.output).toMatchObject({ body: { path: `/third/${tag}`, n: 1 } });
    // The original is as it was.
    expect(await getRun(original.id)).toEqual(original);
  });

  test("a graph a→b, a→c, (b, c)→d replayed from c: a and b are reused, c and d execute; the output has the leaf", async () => {
    const tag = unique("graph");
    const wf = await createWorkflow([
      get("a", `/a/${tag}`),
      { ...get("b", `/b/${tag}`), needs: ["a"] },
      { ...get("c", `/c/${tag}`), needs: ["a"] },
      { name: "d", type: "transform", config: { output: { b: "{{steps.b.body.n}}", c: "{{steps.c.body.n}}" } }, needs: ["b", "c"] },
    ]);
    const original = await finished(await triggerRun(api.url, { workflow_id: wf }));
    expect(original).toMatchObject({ status: "completed", output: { d: { b: 1, c: 1 } } });

    const run = await replayed(original.id, { from_step: "c" });
    expect(run.status).toBe("completed");
    expect(["a", "b", "c"].map((s) => hits.get(`/${s}/${tag}`))).toEqual([1, 1, 2]);
    const steps = byName(run);
    expect([steps.a!.reused, steps.b!.reused, steps.c!.reused, steps.d!.reused]).toEqual([true, true, undefined, undefined]);
    // d read the reused b (first call) and the new c (second call).
    expect(run.output).toEqual({ d: { b: 1, c: 2 } });
  });

  test("a completed run replayed without a body runs again as a whole", async () => {
    const tag = unique("whole");
    const wf = await createWorkflow([get("one", `/one/${tag}`), get("two", `/two/${tag}`)]);
    const original = await finished(await triggerRun(api.url, { workflow_id: wf }));
    expect(original.status).toBe("completed");
    const run = await replayed(original.id);
    expect(run.steps.map((s) => s.reused)).toEqual([undefined, undefined]);
    expect([hits.get(`/one/${tag}`), hits.get(`/two/${tag}`)]).toEqual([2, 2]);
  });

  test("with a new input: the executed steps read it, the reused ones keep what the original computed", async () => {
    const wf = await createWorkflow([
      { name: "s1", type: "transform", config: { output: "{{input.x}}" } },
      { name: "s2", type: "transform", config: { output: { s1: "{{steps.s1}}", x: "{{input.x}}" } } },
    ]);
    const original = await finished(await triggerRun(api.url, { workflow_id: wf, input: { x: 1 } }));
    expect(original.output).toEqual({ s1: 1, x: 1 });
    const run = await replayed(original.id, { from_step: "s2", input: { x: 2 } });
    expect(run).toMatchObject({ status: "completed", input: { x: 2 }, output: { s1: 1, x: 2 } });
    const all = await replayed(original.id, { from_step: "s1", input: { x: 3 } });
    expect(all).toMatchObject({ input: { x: 3 }, output: { s1: 3, x: 3 } });
  });

  test("a run whose workflow was replaced since replays its pinned definition", async () => {
    const wf = await createWorkflow([{ name: "only", type: "transform", config: { output: "first version" } }]);
    const original = await finished(await triggerRun(api.url, { workflow_id: wf }));
    const put = await call(api.url, "PUT", `/api/v1/workflows/${wf}`, {
      name: unique("replaced"),
      steps: [{ name: "other", type: "transform", config: { output: "second version" } }],
    });
    expect(put.status).toBe(200);
    const run = await replayed(original.id, { from_step: "only" });
    expect(run).toMatchObject({ status: "completed", workflow_version: 1, output: "first version" });
    expect(run.steps.map((s) => s.name)).toEqual(["only"]);
    // A step of the current version is not one of the pinned definition's.
    expect((await replay(original.id, { from_step: "other" })).status).toBe(422);
  });

  test("404 for an unknown or malformed id, 409 for a run not finished, 422 for a from_step or a body that does not fit", async () => {
    expect((await replay(newId())).status).toBe(404);
    expect((await replay("not-a-uuid")).status).toBe(404);

    const wf = await createWorkflow([{ name: "only", type: "transform", config: { output: 1 } }]);
    const later = await triggerRun(api.url, { workflow_id: wf, delay_ms: 3_600_000 });
    const pending = await replay(later);
    expect(pending.status).toBe(409);
    expect(pending.headers.get("content-type")).toContain("application/problem+json");
    expect(pending.body.detail).toContain("pending");
    await api.services.sql`UPDATE runs SET status = 'running', wake_at = NULL, started_at = now() WHERE id = ${later}::uuid`;
    expect((await replay(later)).status).toBe(409);

    const done = await finished(await triggerRun(api.url, { workflow_id: wf }));
    const unknownStep = await replay(done.id, { from_step: "nope" });
    expect(unknownStep.status).toBe(422);
    expect(unknownStep.body.errors).toEqual([{ path: "/from_step", message: expect.stringContaining("nope") }]);
    // A JSON null is a body, not the absence of one.
    for (const body of [{ from_step: 5 }, { input: [1] }, { extra: true }, "null", "[]"]) {
      const r = await replay(done.id, body);
      expect({ body, status: r.status }).toEqual({ body, status: 422 });
    }
    expect((await replay(done.id, "{not json")).status).toBe(400);
    // None of these started a run.
    const started = await api.services.sql`SELECT id FROM runs WHERE replay_of IN (${later}::uuid, ${done.id}::uuid)`;
    expect(started.length).toBe(0);
  });
});

describe("a replay's flow control", () => {
  test("it keeps the original's concurrency limit and timeout; its key is the original's, or computed over a new input", async () => {
    const wf = await createWorkflowOn(api.url, {
      name: unique("limited"),
      steps: [{ name: "only", type: "transform", config: { output: "{{input.customer}}" } }],
      concurrency: { limit: 2, key: "customer-{{input.customer}}" },
      timeout_ms: 60_000,
    });
    const original = await finished(await triggerRun(api.url, { workflow_id: wf, input: { customer: "a" } }));
    const same = await replayed(original.id);
    const other = await replayed(original.id, { input: { customer: "b" } });
    expect([same.output, other.output]).toEqual(["a", "b"]);
    const rows = await api.services.sql<{ id: string; concurrency_limit: number; concurrency_key: string; timeout_ms: number }[]>`
      SELECT id, concurrency_limit, concurrency_key, timeout_ms FROM runs WHERE id IN (${same.id}::uuid, ${other.id}::uuid)`;
    expect(Object.fromEntries(rows.map((r) => [r.id, [r.concurrency_limit, r.concurrency_key, r.timeout_ms]]))).toEqual({
      [same.id]: [2, "customer-a", 60_000],
      [other.id]: [2, "customer-b", 60_000],
    });
  });

  test("a run of a deleted workflow is not replayed (409): a deleted workflow starts no run", async () => {
    const wf = await createWorkflow([{ name: "only", type: "transform", config: { output: 1 } }]);
    const original = await finished(await triggerRun(api.url, { workflow_id: wf }));
    expect((await call(api.url, "DELETE", `/api/v1/workflows/${wf}`)).status).toBe(204);
    const r = await replay(original.id);
    expect(r.status).toBe(409);
    expect(r.body.detail).toContain("deleted");
    expect(await api.services.runs.replayMany([original.id])).toEqual({ matched: 1, affected: 0 });
  });
});

describe("RunService.replayMany", () => {
  test("500 failed runs in batches: each replayed once, with its reused steps, published and executed", async () => {
    const wf = await createWorkflow([
      { name: "fetch", type: "transform", config: { output: "fetched" } },
      { name: "store", type: "transform", config: { output: "{{steps.fetch}} and stored" } },
    ]);
    // Failed originals written as a worker would have left them (no 500 real failures needed).
    const ids = Array.from({ length: 500 }, () => newId());
    const [def] = await api.services.sql<{ steps: unknown }[]>`SELECT steps FROM workflows WHERE id = ${wf}::uuid`;
    const at = new Date().toISOString();
    const steps = [
      { name: "fetch", status: "completed", attempts: 1, started_at: at, finished_at: at, output: "fetched" },
      { name: "store", status: "failed", attempts: 1, started_at: at, finished_at: at, error: "boom" },
    ];
    await api.services.sql`
      INSERT INTO runs (id, workflow_id, workflow_version, definition, status, input, steps, error, created_at, updated_at, started_at, finished_at, topic)
      SELECT id, ${wf}::uuid, 1, ${api.services.sql.json(def!.steps as never)}::jsonb, 'failed', '{}'::jsonb,
             ${api.services.sql.json(steps as never)}::jsonb, 'boom', now(), now(), now(), now(), ${api.config.runsTopic}
      FROM unnest(${`{${ids.join(",")}}`}::uuid[]) AS id`;
    const pending = await triggerRun(api.url, { workflow_id: wf, delay_ms: 3_600_000 });

    async function* stream() {
      yield* ids;
      yield pending; // matched, not finished: not replayed
      yield newId(); // unknown: not matched
      yield "malformed";
    }
    const outcome = await api.services.runs.replayMany(stream(), {}, { batchSize: 200 });
    expect(outcome).toEqual({ matched: 501, affected: 500 });

    const replays = await api.services.sql<{ id: string; replay_of: string }[]>`
      SELECT id, replay_of FROM runs WHERE replay_of = ANY(${`{${[...ids, pending].join(",")}}`}::uuid[])`;
    expect(replays.length).toBe(500);
    expect(new Set(replays.map((r) => r.replay_of))).toEqual(new Set(ids));
    await waitFor(
      "the 500 replays to complete",
      async () => {
        const [{ n } = { n: -1 }] = await api.services.sql<{ n: number }[]>`
          SELECT count(*)::int AS n FROM runs WHERE replay_of = ANY(${`{${ids.join(",")}}`}::uuid[]) AND status = 'completed'`;
        return n === 500;
      },
      60_000,
      250,
    );
    const one = await getRun(replays[0]!.id);
    expect(one.output).toBe("fetched and stored");
    expect(byName(one).fetch).toMatchObject({ reused: true, output: "fetched" });
  });
});

describe("POST /api/v1/runs/bulk/replay", () => {
  test("replays the finished runs the filters match, each from its failed step; 422 without a filter or with an unfinished status", async () => {
    const tag = unique("bulk");
    const wf = await createWorkflow([
      get("first", `/first/${tag}`),
      { ...get("second", `/broken/${tag}`), retry: { max_attempts: 1, backoff_ms: 1 } },
    ]);
    const originals = await Promise.all([1, 2, 3].map(async () => finished(await triggerRun(api.url, { workflow_id: wf }))));
    expect(originals.map((r) => r.status)).toEqual(["failed", "failed", "failed"]);

    for (const body of [{}, { status: "pending" }, { status: "failed,running" }, { workflow_id: wf, extra: 1 }]) {
      const r = await call(api.url, "POST", "/api/v1/runs/bulk/replay", body);
      expect({ body, status: r.status }).toEqual({ body, status: 422 });
    }
    const res = await call(api.url, "POST", "/api/v1/runs/bulk/replay", { workflow_id: wf, status: "failed" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ matched: 3, affected: 3 });
    const { body: page } = await call<{ items: RunBody[] }>(api.url, "GET", `/api/v1/runs?workflow_id=${wf}&limit=10`);
    const replays = page.items.filter((r) => r.replay_of !== null);
    expect(replays.map((r) => r.replay_of).sort()).toEqual(originals.map((r) => r.id).sort());
    // Each replay executed only the failed step again: the first is reused.
    for (const r of replays) expect(byName(await finished(r.id)).first!.reused).toBe(true);
    expect(hits.get(`/first/${tag}`)).toBe(3);
  });
});
