import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newId } from "@wf/core/ids";
import { call, createWorkflow, startApi, type TestApi, triggerRun, unique } from "../support/api.ts";

// The run list's Version 2 filters (Bun API only): status lists, schedule_id, parent_run_id, a
// created range, their cursors, and POST /runs/bulk/cancel's checks and semantics. No worker runs
// here: runs are put in the states a test needs by SQL.
let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api.stop();
});

const workflow = () =>
  createWorkflow(api.url, { name: unique("filters"), steps: [{ name: "only", type: "transform", config: { output: 1 } }] });
const setStatus = (ids: string[], status: string) =>
  api.services.sql`UPDATE runs SET status = ${status}, started_at = now() WHERE id = ANY(${`{${ids.join(",")}}`}::uuid[])`;
type Page = { items: Array<{ id: string; status: string; created_at: string }>; next_cursor: string | null };
const list = async (query: string) => {
  const r = await call<Page>(api.url, "GET", `/api/v1/runs?${query}`);
  expect(r.status).toBe(200);
  return r.body;
};
/** Every page of a list, following its cursors: the ids in order. */
const walk = async (query: string, limit: number): Promise<string[]> => {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: Page = await list(`${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    ids.push(...page.items.map((r) => r.id));
    cursor = page.next_cursor;
  } while (cursor);
  return ids;
};

/** Six runs of a new workflow, oldest first, as two pending, two running, one failed, one completed. */
async function fixture() {
  const wf = await workflow();
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    ids.push(await triggerRun(api.url, { workflow_id: wf }));
    await Bun.sleep(3); // distinct created_at, so the created range can fall between runs
  }
  await setStatus([ids[1]!, ids[4]!], "running");
  await setStatus([ids[2]!], "failed");
  await setStatus([ids[5]!], "completed");
  return { wf, ids, newestFirst: [...ids].reverse() };
}

describe("GET /api/v1/runs filters", () => {
  test("several statuses: the runs in any of them, newest first, on one page or page by page", async () => {
    const { wf, ids } = await fixture();
    const want = [ids[4], ids[3], ids[1], ids[0]];
    expect((await list(`workflow_id=${wf}&status=pending,running`)).items.map((r) => r.id)).toEqual(want as string[]);
    expect(await walk(`workflow_id=${wf}&status=running,pending,running`, 1)).toEqual(want as string[]);
    expect(await walk(`workflow_id=${wf}&status=failed,completed`, 1)).toEqual([ids[5]!, ids[2]!]);
    expect(await walk(`workflow_id=${wf}&status=cancelled`, 1)).toEqual([]);
  });

  test("a workflow without a status: all its runs newest first, across statuses, page by page", async () => {
    const { wf, newestFirst } = await fixture();
    expect(await walk(`workflow_id=${wf}`, 2)).toEqual(newestFirst);
    expect(await walk(`workflow_id=${wf}`, 200)).toEqual(newestFirst);
  });

  test("schedule_id and parent_run_id: the runs a schedule or a parent started, with or without statuses", async () => {
    const { wf, ids } = await fixture();
    const [schedule, parent] = [newId(), newId()];
    await api.services.sql`UPDATE runs SET schedule_id = ${schedule}::uuid WHERE id = ANY(${`{${ids[0]},${ids[1]},${ids[2]}}`}::uuid[])`;
    await api.services.sql`UPDATE runs SET parent_run_id = ${parent}::uuid WHERE id = ANY(${`{${ids[3]},${ids[4]}}`}::uuid[])`;
    expect(await walk(`schedule_id=${schedule}`, 1)).toEqual([ids[2]!, ids[1]!, ids[0]!]);
    expect(await walk(`schedule_id=${schedule}&status=pending,failed`, 1)).toEqual([ids[2]!, ids[0]!]);
    expect(await walk(`parent_run_id=${parent}`, 1)).toEqual([ids[4]!, ids[3]!]);
    expect(await walk(`parent_run_id=${parent}&status=running&workflow_id=${wf}`, 1)).toEqual([ids[4]!]);
    expect(await walk(`parent_run_id=${schedule}`, 1)).toEqual([]);
    // The list shows both (GET /runs/{id} may serve the copy cached before the SQL above).
    expect((await list(`parent_run_id=${parent}&limit=1`)).items[0]).toMatchObject({
      id: ids[4],
      parent_run_id: parent,
      schedule_id: null,
    });
    expect((await list(`schedule_id=${schedule}&limit=1`)).items[0]).toMatchObject({
      id: ids[2],
      parent_run_id: null,
      schedule_id: schedule,
    });
  });

  test("created_after and created_before: exclusive bounds, in any offset", async () => {
    const { wf, ids, newestFirst } = await fixture();
    const created = (await list(`workflow_id=${wf}&limit=10`)).items.reverse().map((r) => r.created_at);
    expect(await walk(`workflow_id=${wf}&created_after=${created[1]}`, 2)).toEqual(newestFirst.slice(0, 4));
    expect(await walk(`workflow_id=${wf}&created_before=${created[1]}`, 2)).toEqual([ids[0]!]);
    expect(await walk(`workflow_id=${wf}&created_after=${created[0]}&created_before=${created[5]}&status=pending,running`, 1)).toEqual([
      ids[4]!,
      ids[3]!,
      ids[1]!,
    ]);
    // The same instant with another offset, and with digits finer than a millisecond.
    const at = new Date(created[2]!);
    const plusTwo = new Date(at.getTime() + 2 * 3_600_000).toISOString().replace("Z", "+02:00");
    expect(await walk(`workflow_id=${wf}&created_after=${encodeURIComponent(plusTwo)}`, 10)).toEqual(newestFirst.slice(0, 3));
    const finer = created[2]!.replace("Z", "1Z");
    expect(await walk(`workflow_id=${wf}&created_before=${finer}`, 10)).toEqual([ids[2]!, ids[1]!, ids[0]!]);
    expect(await walk(`workflow_id=${wf}&created_after=${finer}`, 10)).toEqual(newestFirst.slice(0, 3));
  });

  test("bad filter values are a 400 problem naming the parameter", async () => {
    for (const q of [
      "status=finished",
      "status=pending,",
      "status=pending,,running",
      "status=",
      "schedule_id=nope",
      "parent_run_id=123",
      "created_after=2026-02-30T00:00:00Z",
      "created_after=2026-01-01T00:00:00",
      "created_before=2026-01-01%2000:00:00Z",
      "created_before=2026-01-01T23:59:60Z",
      "created_after=yesterday",
    ]) {
      const r = await call(api.url, "GET", `/api/v1/runs?${q}`);
      expect({ q, status: r.status, type: r.headers.get("content-type") }).toEqual({
        q,
        status: 400,
        type: expect.stringContaining("application/problem+json"),
      });
      expect(r.body.errors.map((e: { path: string }) => e.path).join()).toContain(q.split("=")[0]);
    }
  });

  test("a cursor is valid only with the filters it was issued for", async () => {
    const { wf } = await fixture();
    const base = `workflow_id=${wf}&status=pending,running`;
    const cursor = encodeURIComponent((await list(`${base}&limit=1`)).next_cursor!);
    expect((await call(api.url, "GET", `/api/v1/runs?${base}&limit=1&cursor=${cursor}`)).status).toBe(200);
    // The same statuses in another order are the same filter.
    expect((await call(api.url, "GET", `/api/v1/runs?workflow_id=${wf}&status=running,pending&cursor=${cursor}`)).status).toBe(200);
    for (const other of [
      `workflow_id=${wf}&status=pending`,
      `workflow_id=${wf}`,
      `${base}&created_after=2000-01-01T00:00:00Z`,
      `${base}&created_before=2100-01-01T00:00:00Z`,
      `${base}&schedule_id=${newId()}`,
      `${base}&parent_run_id=${newId()}`,
      "status=pending,running",
    ]) {
      const r = await call(api.url, "GET", `/api/v1/runs?${other}&cursor=${cursor}`);
      expect({ other, status: r.status }).toEqual({ other, status: 400 });
      expect(r.body.errors).toEqual([{ path: "/cursor", message: expect.any(String) }]);
    }
    // A cursor of other created bounds is refused too.
    const ranged = `${base}&created_after=2000-01-01T00:00:00Z`;
    const c2 = encodeURIComponent((await list(`${ranged}&limit=1`)).next_cursor!);
    expect((await call(api.url, "GET", `/api/v1/runs?${ranged}&cursor=${c2}`)).status).toBe(200);
    expect((await call(api.url, "GET", `/api/v1/runs?${base}&created_after=2000-01-01T00:00:00.001Z&cursor=${c2}`)).status).toBe(400);
  });

  test("the document says what is checked: the same patterns and formats", async () => {
    const doc = (await call(api.url, "GET", "/swagger/json")).body;
    const params = doc.paths["/api/v1/runs"].get.parameters as Array<{ name: string; schema: Record<string, string> }>;
    const schema = (name: string) => params.find((p) => p.name === name)?.schema;
    expect(schema("status")?.pattern).toBe(
      "^(pending|running|completed|failed|cancelled)(,(pending|running|completed|failed|cancelled))*$",
    );
    for (const name of ["workflow_id", "schedule_id", "parent_run_id"]) expect(schema(name)?.format).toBe("uuid");
    for (const name of ["created_after", "created_before"])
      expect(schema(name)).toMatchObject({ format: "date-time", pattern: expect.any(String) });
  });
});

describe("POST /api/v1/runs/bulk/cancel", () => {
  const bulk = (body: unknown) => call(api.url, "POST", "/api/v1/runs/bulk/cancel", body);

  test("no filter, an unknown field, a finished status or a bad value is a 422", async () => {
    for (const body of [
      {},
      { workflowid: newId() },
      { status: "completed" },
      { status: "pending,failed" },
      { workflow_id: "x" },
      { created_before: "soon" },
      { status: "pending", limit: 5 },
    ]) {
      const r = await bulk(body);
      expect({ body, status: r.status }).toEqual({ body, status: 422 });
    }
    expect((await bulk("[")).status).toBe(400);
  });

  test("cancels what matches, as a cancel does: descendants too, a parked run's waiting steps; again: nothing", async () => {
    const { wf, ids } = await fixture();
    // A child run (of another workflow) of a running run of the batch, and a parked run.
    const other = await workflow();
    const child = await triggerRun(api.url, { workflow_id: other });
    await api.services.sql`UPDATE runs SET parent_run_id = ${ids[4]!}::uuid WHERE id = ${child}::uuid`;
    await api.services.sql`
      UPDATE runs SET lease_owner = NULL, lease_expires_at = NULL, wake_at = now() + interval '1 hour',
             steps = '[{"name":"only","status":"waiting","attempts":1,"started_at":null,"finished_at":null}]'::jsonb
      WHERE id = ${ids[1]!}::uuid`;
    const r = await bulk({ workflow_id: wf });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ matched: 4, affected: 4 });
    const rows = await api.services.sql<
      { id: string; status: string; error: string | null; steps: Array<{ status: string }>; wake_at: Date | null }[]
    >`
      SELECT id::text, status, error, steps, wake_at FROM runs WHERE workflow_id IN (${wf}::uuid, ${other}::uuid)`;
    const by = new Map(rows.map((x) => [x.id, x]));
    expect([0, 1, 2, 3, 4, 5].map((i) => by.get(ids[i]!)!.status)).toEqual([
      "cancelled",
      "cancelled",
      "failed",
      "cancelled",
      "cancelled",
      "completed",
    ]);
    expect(by.get(ids[0]!)!.error).toBe("cancelled by request");
    expect(by.get(child)).toMatchObject({ status: "cancelled", error: `cancelled with its ancestor run ${ids[4]}` });
    expect(by.get(ids[1]!)).toMatchObject({ wake_at: null, steps: [{ status: "cancelled" }] });
    // The cached copy is the cancelled one.
    expect((await call(api.url, "GET", `/api/v1/runs/${ids[0]}`)).body.status).toBe("cancelled");
    expect((await bulk({ workflow_id: wf })).body).toEqual({ matched: 0, affected: 0 });
  });

  test("the status filter narrows; the other filters too", async () => {
    const { wf, ids } = await fixture();
    expect((await bulk({ workflow_id: wf, status: "running" })).body).toEqual({ matched: 2, affected: 2 });
    const created = (await list(`workflow_id=${wf}&limit=10`)).items.reverse().map((r) => r.created_at);
    expect((await bulk({ workflow_id: wf, created_after: created[0] })).body).toEqual({ matched: 1, affected: 1 });
    const statuses = await api.services.sql<{ status: string }[]>`
      SELECT status FROM runs WHERE id = ANY(${`{${ids.join(",")}}`}::uuid[]) ORDER BY created_at`;
    expect(statuses.map((s) => s.status)).toEqual(["pending", "cancelled", "failed", "cancelled", "cancelled", "completed"]);
  });

  test("at most BULK_MAX_RUNS a call; the next call takes the rest", async () => {
    const small = await startApi({ bulkMaxRuns: 2 });
    try {
      const { wf } = await fixture();
      const once = await call(small.url, "POST", "/api/v1/runs/bulk/cancel", { workflow_id: wf, status: "pending,running" });
      expect(once.body).toEqual({ matched: 2, affected: 2 });
      expect((await call(small.url, "POST", "/api/v1/runs/bulk/cancel", { workflow_id: wf })).body).toEqual({ matched: 2, affected: 2 });
      expect((await call(small.url, "POST", "/api/v1/runs/bulk/cancel", { workflow_id: wf })).body).toEqual({ matched: 0, affected: 0 });
    } finally {
      await small.stop();
    }
  });
});
