import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, sampleWorkflow, startApi, type TestApi, unique } from "../support/api.ts";

let api: TestApi;
let workflowId: string;
beforeAll(async () => {
  api = await startApi();
  workflowId = (await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow())).body.id;
});
afterAll(() => api.stop());

describe("runs", () => {
  test("trigger answers 202 pending and the run can be read", async () => {
    const t = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: workflowId, input: { order_id: 7 } });
    expect(t.status).toBe(202);
    expect(t.body).toEqual({ run_id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: "pending" });
    const run = await call(api.url, "GET", `/api/v1/runs/${t.body.run_id}`);
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({
      id: t.body.run_id,
      workflow_id: workflowId,
      workflow_version: 1,
      status: "pending",
      input: { order_id: 7 },
      output: null,
      error: null,
      steps: [],
      started_at: null,
      finished_at: null,
    });
  });

  test("input defaults to an empty object", async () => {
    const t = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: workflowId });
    expect((await call(api.url, "GET", `/api/v1/runs/${t.body.run_id}`)).body.input).toEqual({});
  });

  test("the same idempotency key gives the same run, once", async () => {
    const key = unique("idem");
    const a = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: workflowId, idempotency_key: key });
    const b = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: workflowId, idempotency_key: key });
    const concurrent = await Promise.all(
      Array.from({ length: 10 }, () => call(api.url, "POST", "/api/v1/trigger", { workflow_id: workflowId, idempotency_key: key })),
    );
    expect(a.status).toBe(202);
    expect(a.headers.get("idempotent-replayed")).toBeNull();
    expect(b.status).toBe(202);
    expect(b.headers.get("idempotent-replayed")).toBe("true");
    for (const r of [b, ...concurrent]) expect(r.body.run_id).toBe(a.body.run_id);
    const rows = await api.services.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM runs WHERE idempotency_key = ${key}`;
    expect(rows[0]!.n).toBe(1);
  });

  test("a new idempotency key sent many times at once (one batch of inserts) makes one run", async () => {
    const key = unique("idem-burst");
    const all = await Promise.all(
      Array.from({ length: 20 }, () => call(api.url, "POST", "/api/v1/trigger", { workflow_id: workflowId, idempotency_key: key })),
    );
    expect(all.map((r) => r.status)).toEqual(all.map(() => 202));
    expect(new Set(all.map((r) => r.body.run_id)).size).toBe(1);
    expect(all.filter((r) => r.headers.get("idempotent-replayed") === null).length).toBe(1);
    const rows = await api.services.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM runs WHERE idempotency_key = ${key}`;
    expect(rows[0]!.n).toBe(1);
  });

  test("an idempotency key reused for another workflow is a 409", async () => {
    const key = unique("idem");
    const other = (await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow())).body.id;
    await call(api.url, "POST", "/api/v1/trigger", { workflow_id: workflowId, idempotency_key: key });
    const r = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: other, idempotency_key: key });
    expect(r.status).toBe(409);
    expect(r.headers.get("content-type")).toStartWith("application/problem+json");
  });

  test("trigger errors: unknown workflow 404, malformed id 422, bad body 422", async () => {
    expect((await call(api.url, "POST", "/api/v1/trigger", { workflow_id: "0190a000-0000-7000-8000-000000000000" })).status).toBe(404);
    expect((await call(api.url, "POST", "/api/v1/trigger", { workflow_id: "nope" })).status).toBe(422);
    expect((await call(api.url, "POST", "/api/v1/trigger", {})).status).toBe(422);
    expect((await call(api.url, "POST", "/api/v1/trigger", { workflow_id: workflowId, input: [1] })).status).toBe(422);
    expect((await call(api.url, "POST", "/api/v1/trigger", { workflow_id: workflowId, idempotency_key: "" })).status).toBe(422);
  });

  test("a run keeps the version it was triggered with", async () => {
    const wf = (await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow())).body;
    await call(api.url, "PUT", `/api/v1/workflows/${wf.id}`, sampleWorkflow("v2"));
    const t = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: wf.id });
    expect((await call(api.url, "GET", `/api/v1/runs/${t.body.run_id}`)).body.workflow_version).toBe(2);
    await call(api.url, "DELETE", `/api/v1/workflows/${wf.id}`);
    const after = await call(api.url, "GET", `/api/v1/runs/${t.body.run_id}`);
    expect([after.status, after.body.workflow_id]).toEqual([200, wf.id]);
  });

  test("cancel: pending run 200 cancelled, then 409; unknown 404", async () => {
    const t = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: workflowId });
    const c = await call(api.url, "POST", `/api/v1/runs/${t.body.run_id}/cancel`);
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({ id: t.body.run_id, status: "cancelled" });
    expect(c.body.finished_at).not.toBeNull();
    expect((await call(api.url, "GET", `/api/v1/runs/${t.body.run_id}`)).body.status).toBe("cancelled");
    const again = await call(api.url, "POST", `/api/v1/runs/${t.body.run_id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.detail).toContain("cancelled");
    expect((await call(api.url, "POST", "/api/v1/runs/0190a000-0000-7000-8000-000000000000/cancel")).status).toBe(404);
    expect((await call(api.url, "POST", "/api/v1/runs/bad-id/cancel")).status).toBe(404);
  });

  test("unknown and malformed run ids are 404", async () => {
    for (const id of ["0190a000-0000-7000-8000-000000000000", "x"])
      expect((await call(api.url, "GET", `/api/v1/runs/${id}`)).status).toBe(404);
  });

  test("list filters by status and workflow", async () => {
    const wf = (await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow())).body.id;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await call(api.url, "POST", "/api/v1/trigger", { workflow_id: wf })).body.run_id);
    await call(api.url, "POST", `/api/v1/runs/${ids[0]}/cancel`);
    const all = await call(api.url, "GET", `/api/v1/runs?workflow_id=${wf}`);
    expect(all.status).toBe(200);
    expect(all.body.items.map((r: { id: string }) => r.id)).toEqual([...ids].reverse());
    expect(all.body.next_cursor).toBeNull();
    const pending = await call(api.url, "GET", `/api/v1/runs?workflow_id=${wf}&status=pending`);
    expect(pending.body.items.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[1]]);
    const cancelled = await call(api.url, "GET", `/api/v1/runs?workflow_id=${wf}&status=cancelled&limit=5`);
    expect(cancelled.body.items.map((r: { id: string }) => r.id)).toEqual([ids[0]]);
  });
});
