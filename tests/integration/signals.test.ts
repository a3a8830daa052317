import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newId } from "@wf/core/ids";
import { ExecutionStore, RunWaits } from "@wf/services/execution";
import { call, startApi, type TestApi, triggerRun, unique } from "../support/api.ts";

// Signals (POST /api/v1/runs/{id}/signals/{name}, Bun API only) and how a wait takes them
// (RunWaits.takeSignal), against the real PostgreSQL. No worker runs here: each run is put in the
// state a test needs by the stores themselves or by SQL.
const MAX_PAYLOAD = 256;
let api: TestApi;
let waits: RunWaits;
let workflowId: string;
beforeAll(async () => {
  api = await startApi({ triggerMaxInputBytes: MAX_PAYLOAD });
  waits = new RunWaits(api.services.sql, api.services.publisher, api.config);
  const r = await call(api.url, "POST", "/api/v1/workflows", {
    name: unique("signals"),
    steps: [{ name: "only", type: "transform", config: { output: 1 } }],
  });
  expect(r.status).toBe(201);
  workflowId = r.body.id;
});
afterAll(async () => {
  await api.stop();
});

const trigger = () => triggerRun(api.url, { workflow_id: workflowId });
const signal = (runId: string, name: string, body?: unknown, headers?: Record<string, string>) =>
  call(api.url, "POST", `/api/v1/runs/${runId}/signals/${name}`, body, headers);

type Row = { status: string; lease_owner: string | null; wake_at: Date | null; now: Date };
const row = async (id: string) =>
  (await api.services.sql<Row[]>`SELECT status, lease_owner, wake_at, now() AS now FROM runs WHERE id = ${id}::uuid`)[0]!;
type Stored = { id: string; name: string; payload: unknown; consumed_by: string | null };
const stored = async (runId: string): Promise<Stored[]> => [
  ...(await api.services.sql<Stored[]>`
    SELECT id::text, name, payload, consumed_by FROM run_signals WHERE run_id = ${runId}::uuid ORDER BY run_signals.id`),
];
/** A run as a worker leaves it parked: running, no lease, no due time. */
const parkedRun = async () => {
  const id = await trigger();
  await api.services.sql`UPDATE runs SET status = 'running', started_at = now() WHERE id = ${id}::uuid`;
  return id;
};

describe("POST /api/v1/runs/{id}/signals/{name}", () => {
  test("a pending run keeps the signal (202 with its id) and is not woken: its step takes it when it waits", async () => {
    const id = await trigger();
    const r = await signal(id, "approval", { approved: true, by: "ana" });
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ run_id: id, signal: "approval", id: expect.stringMatching(/^[0-9]+$/) });
    expect(await stored(id)).toEqual([{ id: r.body.id, name: "approval", payload: { approved: true, by: "ana" }, consumed_by: null }]);
    expect((await row(id)).wake_at).toBeNull();
    expect(await waits.forRun(id).takeSignal("approval", "approve:1")).toEqual({ payload: { approved: true, by: "ana" } });
  });

  test("a parked run is woken at once (wake_at now), so the timer hands it back to a worker", async () => {
    const id = await parkedRun();
    // A due time far away (a timeout): the signal brings it forward.
    await api.services.sql`UPDATE runs SET wake_at = now() + interval '1 hour' WHERE id = ${id}::uuid`;
    expect((await signal(id, "go")).status).toBe(202);
    const r = await row(id);
    expect(r.status).toBe("running");
    expect(r.wake_at!.getTime()).toBeLessThanOrEqual(r.now.getTime());
  });

  test("a run still leased keeps the wake-up through its park, however late it parks", async () => {
    const id = await trigger();
    const store = new ExecutionStore(api.services.sql, `test:${unique("owner")}`, 30_000);
    expect("why" in (await store.claim(id))).toBe(false);
    expect((await signal(id, "go", 1)).status).toBe(202);
    const woken = (await row(id)).wake_at;
    expect(woken).not.toBeNull();
    // The step that waits for it had looked before the signal came, and parks with no due time.
    expect(await store.park(id, [], null)).toBe(true);
    expect(await row(id)).toMatchObject({ status: "running", lease_owner: null, wake_at: woken });
  });

  test("the payload is any JSON; no body at all is a null payload", async () => {
    const id = await trigger();
    for (const body of ["text", [1, "two", { three: 3 }], 42, false, null, {}])
      expect((await signal(id, "any", JSON.stringify(body))).status).toBe(202);
    expect((await signal(id, "any")).status).toBe(202);
    expect((await stored(id)).map((s) => s.payload)).toEqual(["text", [1, "two", { three: 3 }], 42, false, null, {}, null]);
  });

  test("an unknown or malformed run id is a 404, and nothing is stored", async () => {
    const unknown = newId();
    const r = await signal(unknown, "approval", {});
    expect(r.status).toBe(404);
    expect(r.headers.get("content-type")).toContain("application/problem+json");
    expect(r.body.detail).toBe(`run ${unknown} does not exist`);
    expect((await signal("not-a-uuid", "approval", {})).status).toBe(404);
    expect(await stored(unknown)).toEqual([]);
  });

  test("a finished run (completed, failed, cancelled) is a 409, and nothing is stored", async () => {
    for (const status of ["completed", "failed", "cancelled"]) {
      const id = await trigger();
      await api.services.sql`UPDATE runs SET status = ${status}, finished_at = now() WHERE id = ${id}::uuid`;
      const r = await signal(id, "approval", { late: true });
      expect(r.status).toBe(409);
      expect(r.body.detail).toBe(`run ${id} is already ${status}`);
      expect(await stored(id)).toEqual([]);
      expect((await row(id)).wake_at).toBeNull();
    }
    // Cancelled through the API, as a client would.
    const id = await trigger();
    expect((await call(api.url, "POST", `/api/v1/runs/${id}/cancel`)).status).toBe(200);
    expect((await signal(id, "approval")).status).toBe(409);
  });

  test("a name that a step could not wait for is a 422 at `name`; 64 letters, digits, _ and - are fine", async () => {
    const id = await trigger();
    for (const bad of ["a".repeat(65), "with%20space", "dot.ted", "%C3%A9t%C3%A9", "semi%3Bcolon"]) {
      const r = await signal(id, bad, {});
      expect({ bad, status: r.status }).toEqual({ bad, status: 422 });
      expect(r.body.errors).toEqual([{ path: "name", message: "a signal name is 1 to 64 letters, digits, '_' or '-'" }]);
    }
    for (const good of ["a".repeat(64), "A_b-9", "0"]) expect((await signal(id, good, {})).status).toBe(202);
    expect((await stored(id)).map((s) => s.name)).toEqual(["a".repeat(64), "A_b-9", "0"]);
  });

  test("a payload over TRIGGER_MAX_INPUT_BYTES or one PostgreSQL cannot store is a 422; bad JSON 400, another media type 415", async () => {
    const id = await trigger();
    const big = await signal(id, "big", { s: "x".repeat(MAX_PAYLOAD) });
    expect(big.status).toBe(422);
    expect(big.body.errors).toEqual([
      { path: "", message: `the payload is ${MAX_PAYLOAD + 8} bytes of JSON; at most ${MAX_PAYLOAD} are accepted` },
    ]);
    const nul = await signal(id, "nul", '{"a": ["\\u0000"]}');
    expect(nul.status).toBe(422);
    expect(nul.body.errors.map((e: { path: string }) => e.path)).toEqual(["/a/0"]);
    expect((await signal(id, "bad", "{not json")).status).toBe(400);
    expect((await signal(id, "text", "hello", { "content-type": "text/plain" })).status).toBe(415);
    expect(await stored(id)).toEqual([]);
  });

  test("it is in the OpenAPI document, with its answers", async () => {
    const doc = (await call(api.url, "GET", "/swagger/json")).body;
    const op = doc.paths["/api/v1/runs/{id}/signals/{name}"].post;
    expect(Object.keys(op.responses).sort()).toEqual(["202", "400", "401", "403", "404", "409", "413", "415", "422", "429", "503"]);
    expect(op.parameters.map((p: { name: string }) => p.name).sort()).toEqual(["id", "name"]);
  });
});

describe("RunWaits.takeSignal", () => {
  test("takes the oldest signal of its name; the same key again gets the same signal, another key the next", async () => {
    const id = await trigger();
    for (const n of [1, 2, 3]) expect((await signal(id, "step-done", { n })).status).toBe(202);
    expect((await signal(id, "other", { n: 0 })).status).toBe(202);
    const w = waits.forRun(id);
    expect(await w.takeSignal("step-done", "wait:a")).toEqual({ payload: { n: 1 } });
    // A redelivered run redoes the same wait: the same signal, not the second one.
    expect(await w.takeSignal("step-done", "wait:a")).toEqual({ payload: { n: 1 } });
    expect(await w.takeSignal("step-done", "wait:b")).toEqual({ payload: { n: 2 } });
    expect(await w.takeSignal("step-done", "wait:a")).toEqual({ payload: { n: 1 } });
    expect(await w.takeSignal("step-done", "wait:c")).toEqual({ payload: { n: 3 } });
    expect(await w.takeSignal("step-done", "wait:d")).toBeUndefined();
    expect((await stored(id)).map((s) => [s.name, s.consumed_by])).toEqual([
      ["step-done", "wait:a"],
      ["step-done", "wait:b"],
      ["step-done", "wait:c"],
      ["other", null],
    ]);
    // A signal that comes later goes to the wait still without one.
    expect((await signal(id, "step-done", { n: 4 })).status).toBe(202);
    expect(await w.takeSignal("step-done", "wait:d")).toEqual({ payload: { n: 4 } });
  });

  test("a null payload is taken as a signal with payload null, not as no signal", async () => {
    const id = await trigger();
    expect((await signal(id, "ping")).status).toBe(202);
    expect(await waits.forRun(id).takeSignal("ping", "k")).toEqual({ payload: null });
  });

  test("signals are the run's own: another run's are never taken", async () => {
    const [mine, theirs] = [await trigger(), await trigger()];
    expect((await signal(theirs, "approval", JSON.stringify("theirs"))).status).toBe(202);
    expect(await waits.forRun(mine).takeSignal("approval", "k")).toBeUndefined();
    expect((await signal(mine, "approval", JSON.stringify("mine"))).status).toBe(202);
    expect(await waits.forRun(mine).takeSignal("approval", "k")).toEqual({ payload: "mine" });
    expect(await waits.forRun(theirs).takeSignal("approval", "k")).toEqual({ payload: "theirs" });
  });

  test("waits taking signals of one name at the same moment (for_each items) each get a different one", async () => {
    const id = await trigger();
    for (let n = 0; n < 20; n++) expect((await signal(id, "item", n)).status).toBe(202);
    const w = waits.forRun(id);
    const got = await Promise.all(Array.from({ length: 25 }, (_, i) => w.takeSignal("item", `item:${i}`)));
    const payloads = got.filter((g) => g !== undefined).map((g) => g.payload as number);
    expect(payloads.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    // And each key keeps its own when asked again.
    const again = await Promise.all(Array.from({ length: 25 }, (_, i) => w.takeSignal("item", `item:${i}`)));
    expect(again).toEqual(got);
  });
});
