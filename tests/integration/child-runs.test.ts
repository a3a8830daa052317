import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { StepFailure } from "@wf/core/engine";
import { newId } from "@wf/core/ids";
import { childRunKey, ExecutionStore, RunWaits } from "@wf/services/execution";
import { Timers } from "@wf/services/timers";
import { call, createWorkflow as createWorkflowOn, startApi, type TestApi, triggerRun, unique } from "../support/api.ts";
import { readTopic } from "../support/kafka.ts";

// Child runs (the `workflow` step's side, RunWaits.startChild/childRun), how a child's end wakes
// its parent, and the cancel that cascades to a run's descendants, against the real PostgreSQL and
// Kafka. No worker runs here: the tests play the workers with ExecutionStore, so each state is
// reached exactly when the test says.
let api: TestApi;
let waits: RunWaits;
let store: ExecutionStore;
let parentWf: string;
let childWf: string;

const createWorkflow = (output: unknown) =>
  createWorkflowOn(api.url, { name: unique("wf"), steps: [{ name: "only", type: "transform", config: { output } }] });
const replaceWorkflow = async (id: string, output: unknown) => {
  const r = await call(api.url, "PUT", `/api/v1/workflows/${id}`, {
    name: unique("wf"),
    steps: [{ name: "only", type: "transform", config: { output } }],
  });
  expect(r.status).toBe(200);
  return r.body.version as number;
};

beforeAll(async () => {
  api = await startApi();
  waits = new RunWaits(api.services.sql, api.services.publisher, api.config);
  store = new ExecutionStore(api.services.sql, `test:${unique("owner")}`, 30_000);
  parentWf = await createWorkflow("parent");
  childWf = await createWorkflow("child v1");
});
afterAll(async () => {
  await api.stop();
});

const trigger = (workflowId = parentWf) => triggerRun(api.url, { workflow_id: workflowId });
/** A run as its worker holds it: claimed, running, leased by `store`. */
const claim = async (id: string) => {
  const c = await store.claim(id);
  expect("why" in c ? c : "claimed").toBe("claimed");
  return id;
};
const runningParent = async () => claim(await trigger());

type Row = {
  status: string;
  workflow_version: number;
  definition: unknown;
  input: unknown;
  parent_run_id: string | null;
  idempotency_key: string | null;
  topic: string;
  error: string | null;
  lease_owner: string | null;
  wake_at: Date | null;
  lease_lapsed: boolean | null;
  now: Date;
};
const row = async (id: string) =>
  (
    await api.services.sql<Row[]>`
      SELECT status, workflow_version, definition, input, parent_run_id::text, idempotency_key, topic, error, lease_owner, wake_at,
             lease_expires_at < now() AS lease_lapsed, now() AS now
      FROM runs WHERE id = ${id}::uuid`
  )[0]!;
const children = async (parent: string) =>
  (await api.services.sql<{ id: string }[]>`SELECT id::text FROM runs WHERE parent_run_id = ${parent}::uuid ORDER BY id`).map((r) => r.id);
const outboxRows = async (key: string) =>
  (await api.services.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM outbox WHERE key = ${key}`)[0]!.n;
const woken = (r: Row) => r.wake_at !== null && r.wake_at.getTime() <= r.now.getTime();

const failure = async (p: Promise<unknown>): Promise<StepFailure> => {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(StepFailure);
    return err as StepFailure;
  }
  throw new Error("expected a StepFailure");
};

describe("RunWaits.startChild", () => {
  test("one child per key: pending, pinned to the child workflow's version of the moment, with parent_run_id; published, its outbox row gone", async () => {
    const parent = await runningParent();
    const v2 = await replaceWorkflow(childWf, "child v2");
    const w = waits.forRun(parent);
    const first = await w.startChild(childWf, { order: 7 }, "call:1");
    expect(await row(first)).toMatchObject({
      status: "pending",
      workflow_version: v2,
      definition: [{ name: "only", type: "transform", config: { output: "child v2" } }],
      input: { order: 7 },
      parent_run_id: parent,
      idempotency_key: childRunKey(parent, "call:1"),
      topic: api.config.runsTopic,
    });
    expect(await outboxRows(first)).toBe(0);

    // The same wait done again (a redelivery), after the child workflow changed: the same child.
    const v3 = await replaceWorkflow(childWf, "child v3");
    expect(await w.startChild(childWf, { order: 8 }, "call:1")).toBe(first);
    expect(await row(first)).toMatchObject({ workflow_version: v2, input: { order: 7 } });
    expect(await children(parent)).toEqual([first]);

    // Another wait (the next attempt, another item): another child, of the version current now.
    const second = await w.startChild(childWf, undefined, "call:2");
    expect(second).not.toBe(first);
    expect(await row(second)).toMatchObject({ status: "pending", workflow_version: v3, input: {}, parent_run_id: parent });

    const msgs = await readTopic(api.config, api.config.runsTopic, (m) => [first, second].every((id) => m.some((x) => x.key === id)));
    expect(msgs.filter((m) => m.key === first).map((m) => m.value)).toEqual([
      { run_id: first, workflow_id: childWf, workflow_version: v2 },
    ]);
  });

  test("the API shows parent_run_id: the child's parent, null for a run triggered", async () => {
    const parent = await runningParent();
    const child = await waits.forRun(parent).startChild(childWf, {}, "show");
    expect((await call(api.url, "GET", `/api/v1/runs/${child}`)).body.parent_run_id).toBe(parent);
    expect((await call(api.url, "GET", `/api/v1/runs/${parent}`)).body.parent_run_id).toBeNull();
    const page = await call(api.url, "GET", `/api/v1/runs?workflow_id=${childWf}&limit=200`);
    expect(page.body.items.find((r: { id: string }) => r.id === child).parent_run_id).toBe(parent);
  });

  test("a deleted or unknown workflow, or an input a trigger would refuse, fails the step for good", async () => {
    const parent = await runningParent();
    const w = waits.forRun(parent);
    const gone = await createWorkflow("gone");
    expect((await call(api.url, "DELETE", `/api/v1/workflows/${gone}`)).status).toBe(204);
    for (const [workflowId, input, message] of [
      [gone, {}, `workflow ${gone} does not exist`],
      [newId(), {}, "does not exist"],
      ["not-a-uuid", {}, "workflow not-a-uuid does not exist"],
      [childWf, [1, 2], "a child run's input must be an object, as a trigger's is"],
      [childWf, { s: "x".repeat(api.config.triggerMaxInputBytes) }, "at most"],
      [childWf, { s: "\u0000" }, "NUL"],
    ] as const) {
      const f = await failure(w.startChild(workflowId, input, `bad:${message}`));
      expect(f.retryable).toBe(false);
      expect(f.message).toContain(message);
    }
    expect(await children(parent)).toEqual([]);
  });

  test("a run that no longer runs starts no child", async () => {
    const parent = await runningParent();
    expect((await call(api.url, "POST", `/api/v1/runs/${parent}/cancel`)).status).toBe(200);
    const f = await failure(waits.forRun(parent).startChild(childWf, {}, "late"));
    expect(f.retryable).toBe(false);
    expect(f.message).toContain(`run ${parent} is cancelled`);
    expect(await children(parent)).toEqual([]);
  });

  test("a child being written holds its parent: a cancel that comes meanwhile waits, and cancels the child too", async () => {
    const parent = await runningParent();
    const child = newId();
    let inserted!: () => void;
    const written = new Promise<void>((r) => (inserted = r));
    let commit!: () => void;
    const committing = new Promise<void>((r) => (commit = r));
    // The child's insert, held open: it share-locks the parent as insertPending does.
    const tx = api.services.sql.begin(async (t) => {
      await t`SELECT 1 FROM runs WHERE id = ${parent}::uuid AND status = 'running' FOR SHARE`;
      await t`
        INSERT INTO runs (id, workflow_id, workflow_version, definition, status, created_at, updated_at, topic, parent_run_id)
        VALUES (${child}::uuid, ${childWf}::uuid, 1, '[]'::jsonb, 'pending', now(), now(), ${api.config.runsTopic}, ${parent}::uuid)`;
      inserted();
      await committing;
    });
    await written;
    const cancel = call(api.url, "POST", `/api/v1/runs/${parent}/cancel`);
    await Bun.sleep(300);
    // The cancel waits for the parent's row; its statement began before the child existed.
    expect((await row(parent)).status).toBe("running");
    commit();
    await tx;
    expect((await cancel).status).toBe(200);
    expect(await row(child)).toMatchObject({ status: "cancelled", error: `cancelled with its ancestor run ${parent}` });
  });
});

describe("RunWaits.childRun", () => {
  test("the child's status, output and error; undefined for a run that is not this run's child", async () => {
    const parent = await runningParent();
    const w = waits.forRun(parent);
    const child = await w.startChild(childWf, {}, "look");
    expect(await w.childRun(child)).toEqual({ status: "pending", output: null, error: null });
    await claim(child);
    expect(await w.childRun(child)).toEqual({ status: "running", output: null, error: null });
    expect(await store.finish(child, "failed", [], null, "step only failed")).toBeDefined();
    expect(await w.childRun(child)).toEqual({ status: "failed", output: null, error: "step only failed" });

    const done = await w.startChild(childWf, {}, "look:2");
    await claim(done);
    await store.finish(done, "completed", [], { only: [1, 2] }, null);
    expect(await w.childRun(done)).toEqual({ status: "completed", output: { only: [1, 2] }, error: null });

    expect(await w.childRun(await trigger())).toBeUndefined();
    expect(await waits.forRun(await trigger()).childRun(child)).toBeUndefined();
    expect(await w.childRun(newId())).toBeUndefined();
    expect(await w.childRun("not-a-uuid")).toBeUndefined();
  });
});

describe("a child's end wakes its parent", () => {
  test("the child's terminal write wakes its parked parent in the same statement; the timer then hands the parent back", async () => {
    const parent = await runningParent();
    const child = await waits.forRun(parent).startChild(childWf, {}, "wake");
    expect(await store.park(parent, [], null)).toBe(true);
    expect(await row(parent)).toMatchObject({ status: "running", lease_owner: null, wake_at: null });
    await claim(child);
    expect((await store.finish(child, "completed", [], "out", null))?.status).toBe("completed");
    const p = await row(parent);
    expect(woken(p)).toBe(true);

    const timers = new Timers(api.services.sql, api.services.publisher, api.services.log, {
      topic: api.config.runsTopic,
      pollMs: 1000,
      batchSize: 100,
    });
    expect((await timers.runOnce()).woken).toBeGreaterThanOrEqual(1);
    expect(await row(parent)).toMatchObject({ status: "running", wake_at: null, lease_owner: null, lease_lapsed: true });
  });

  test("a parent still leased keeps the wake-up through its park", async () => {
    const parent = await runningParent();
    const child = await waits.forRun(parent).startChild(childWf, {}, "early");
    await claim(child);
    await store.finish(child, "failed", [], null, "boom");
    expect(woken(await row(parent))).toBe(true);
    expect(await store.park(parent, [], null)).toBe(true);
    expect(woken(await row(parent))).toBe(true);
  });

  test("a parent finished in the same terminal batch as its child stays as its own write left it", async () => {
    const parent = await runningParent();
    const child = await waits.forRun(parent).startChild(childWf, {}, "same-batch");
    await claim(child);
    // One event-loop turn: one statement for both.
    const [p, c] = await Promise.all([
      store.finish(parent, "failed", [], null, "timed out"),
      store.finish(child, "completed", [], 1, null),
    ]);
    expect([p?.status, c?.status]).toEqual(["failed", "completed"]);
    expect(await row(parent)).toMatchObject({ status: "failed", wake_at: null, error: "timed out" });
  });

  test("a child cancelled through the API wakes its parked parent", async () => {
    const parent = await runningParent();
    const child = await waits.forRun(parent).startChild(childWf, {}, "cancel-me");
    await store.park(parent, [], null);
    const r = await call(api.url, "POST", `/api/v1/runs/${child}/cancel`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: child, status: "cancelled", parent_run_id: parent });
    expect(woken(await row(parent))).toBe(true);
  });
});

describe("POST /api/v1/runs/{id}/cancel cascades", () => {
  test("to the run's pending and running descendants; finished ones and other runs are left alone", async () => {
    const parent = await runningParent();
    const w = waits.forRun(parent);
    const running = await claim(await w.startChild(childWf, {}, "running"));
    const grandchild = await waits.forRun(running).startChild(childWf, {}, "deeper");
    const greatGrandchild = await waits.forRun(await claim(grandchild)).startChild(childWf, {}, "deepest");
    const pending = await w.startChild(childWf, {}, "pending");
    const completed = await claim(await w.startChild(childWf, {}, "completed"));
    await store.finish(completed, "completed", [], "done", null);
    const bystander = await trigger();
    // Cached as pending: the cancel must drop that copy.
    expect((await call(api.url, "GET", `/api/v1/runs/${pending}`)).body.status).toBe("pending");

    const r = await call(api.url, "POST", `/api/v1/runs/${parent}/cancel`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: parent, status: "cancelled", error: "cancelled by request", parent_run_id: null });
    for (const id of [running, grandchild, greatGrandchild, pending])
      expect({ id, ...(await row(id)) }).toMatchObject({ id, status: "cancelled", error: `cancelled with its ancestor run ${parent}` });
    expect((await call(api.url, "GET", `/api/v1/runs/${pending}`)).body.status).toBe("cancelled");
    expect(await row(completed)).toMatchObject({ status: "completed", error: null });
    expect((await row(bystander)).status).toBe("pending");
    // Finished already: a 409, as before.
    expect((await call(api.url, "POST", `/api/v1/runs/${parent}/cancel`)).status).toBe(409);
  });

  test("cancelling a child cancels its own subtree, not its parent or siblings", async () => {
    const parent = await runningParent();
    const w = waits.forRun(parent);
    const child = await claim(await w.startChild(childWf, {}, "a"));
    const sibling = await w.startChild(childWf, {}, "b");
    const grandchild = await waits.forRun(child).startChild(childWf, {}, "c");
    expect((await call(api.url, "POST", `/api/v1/runs/${child}/cancel`)).status).toBe(200);
    expect((await row(grandchild)).status).toBe("cancelled");
    expect((await row(sibling)).status).toBe("pending");
    expect((await row(parent)).status).toBe("running");
  });
});
