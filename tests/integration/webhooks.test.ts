import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { enqueueWebhooks } from "@wf/services/runs";
import type { Subprocess } from "bun";
import { Webhook } from "standardwebhooks";
import { call, createWorkflow as createWorkflowOn, startApi, type TestApi, triggerRun, unique, waitFor } from "../support/api.ts";
import { freePort } from "../support/replicas.ts";
import { startTarget } from "../support/target.ts";
import { groupEnv, startWorkers, type WorkerGroup } from "../support/workers.ts";

// Webhooks (Bun API only): deliveries enqueued by the runs' terminal writes, sent by the workers'
// dispatchers, signed as Standard Webhooks says (verified here with the `standardwebhooks` library
// receivers use), retried until a 2xx, at least once across kill -9 of the API and of a worker.
// The retry schedule is scaled down (WEBHOOK_RETRY_BASE_MS 2: retries after ~2 ms, 120 ms, 720 ms,
// 2.9 s) and a delivery fails once 2 s old, so the tests take seconds, not a day.

/** What the receiver got: one entry per request, with the status it answered (0 while it has not). */
interface Got {
  tag: string;
  headers: Record<string, string>;
  body: string;
  status: number;
}
const got: Got[] = [];
/** Per tag: the status to answer the n-th request with (1-based); absent: 200. */
const plans = new Map<string, (n: number) => number | Promise<number>>();
const receiver = Bun.serve({
  hostname: "127.0.0.2",
  port: 0,
  idleTimeout: 30,
  async fetch(req) {
    const tag = new URL(req.url).pathname.split("/")[2] ?? "";
    const entry: Got = { tag, headers: Object.fromEntries(req.headers), body: await req.text(), status: 0 };
    got.push(entry);
    const n = got.filter((g) => g.tag === tag).length;
    entry.status = await (plans.get(tag)?.(n) ?? 200);
    return new Response(entry.status < 300 ? `thanks ${n}` : `not now ${n}`, { status: entry.status });
  },
});
const hookUrl = (tag: string) => `http://127.0.0.2:${receiver.port}/hook/${tag}`;
const received = (tag: string) => got.filter((g) => g.tag === tag);
const target = startTarget();

let api: TestApi;
let workers: WorkerGroup;
let workerEnv: Record<string, string>;
let wfOther: string;
let wfMaybe: string;
let wfSlow: string;
beforeAll(async () => {
  api = await startApi({ egressAllow: ["127.0.0.2"] });
  workerEnv = {
    ...groupEnv(api.config.runsTopic, unique("webhooks")),
    EGRESS_ALLOW: "127.0.0.2",
    WEBHOOK_RETRY_BASE_MS: "2",
    WEBHOOK_RETRY_MAX_AGE_MS: "2000",
    WEBHOOK_POLL_MS: "50",
    WEBHOOK_TIMEOUT_MS: "3000",
    PARK_AFTER_MS: "200",
    TIMER_POLL_MS: "50",
  };
  workers = startWorkers(2, workerEnv);
  const create = (steps: unknown[]) => createWorkflowOn(api.url, { name: unique("hooked"), steps });
  wfOther = await create([{ name: "only", type: "transform", config: { output: 1 } }]);
  // Fails when its input points at the target's /broken (500), completes otherwise.
  wfMaybe = await create([{ name: "call", type: "http", config: { method: "GET", url: `${target.url}/{{input.path}}` } }]);
  wfSlow = await create([{ name: "nap", type: "delay", config: { ms: 600_000 } }]);
});
afterAll(async () => {
  await workers?.stopAll("SIGKILL");
  // The database is shared: leave no webhook that later runs (other tests, benches) would be delivered to.
  if (api)
    await api.services.sql`
    WITH w AS (DELETE FROM webhooks WHERE topic = ${api.config.runsTopic} RETURNING id)
    DELETE FROM webhook_deliveries WHERE webhook_id IN (SELECT id FROM w)`;
  await api?.stop();
  receiver.stop(true);
  target.stop();
});

/** A workflow of its own for each test: a webhook of a workflow gets every run of it. */
const okWorkflow = () =>
  createWorkflowOn(api.url, {
    name: unique("hooked"),
    steps: [{ name: "only", type: "transform", config: { output: { ok: "{{input.n}}" } } }],
  });
const createHook = (body: Record<string, unknown>) => call(api.url, "POST", "/api/v1/webhooks", body);
const hook = async (tag: string, events: string[], workflowId?: string) => {
  const r = await createHook({ url: hookUrl(tag), events, ...(workflowId ? { workflow_id: workflowId } : {}) });
  expect(r.status).toBe(201);
  return r.body as { id: string; secret: string };
};
const trigger = (workflowId: string, input: unknown = {}) => triggerRun(api.url, { workflow_id: workflowId, input });
const runStatus = async (id: string) => (await call(api.url, "GET", `/api/v1/runs/${id}`)).body.status as string;
const deliveries = async (webhookId: string) => {
  const r = await call(api.url, "GET", `/api/v1/webhooks/${webhookId}/deliveries`);
  expect(r.status).toBe(200);
  return r.body.items as {
    id: string;
    event: string;
    run_id: string;
    status: string;
    attempt_count: number;
    next_attempt_at: string | null;
    created_at: string;
    attempts: { at: string; status_code: number | null; error: string | null; duration_ms: number; response_body: string | null }[];
  }[];
};
/** The payload of a request, once its signature verified with the webhook's secret. */
const verified = (secret: string, g: Got) =>
  new Webhook(secret).verify(g.body, g.headers) as { type: string; timestamp: string; data: Record<string, unknown> };
/** Waits until the run's end is delivered (a 2xx) to the tag's receiver; then a little more, for any extra send to show. */
const deliveredTo = async (tag: string, runId: string, secret: string, settleMs = 500) => {
  await waitFor(
    `run ${runId} delivered to ${tag}`,
    async () => received(tag).some((g) => g.status === 200 && verified(secret, g).data.id === runId),
    20_000,
    25,
  );
  await Bun.sleep(settleMs);
  return received(tag).filter((g) => verified(secret, g).data.id === runId);
};

describe("creating, reading, deleting webhooks", () => {
  test("201 with a whsec_ secret shown once; GET one and the list show no secret; the list pages by cursor", async () => {
    const created = await Promise.all([1, 2, 3].map((i) => createHook({ url: hookUrl(`list-${i}`), events: ["run.failed"] })));
    for (const r of created) {
      expect(r.status).toBe(201);
      expect(r.body).toEqual({
        id: expect.any(String),
        url: expect.stringContaining("/hook/list-"),
        events: ["run.failed"],
        workflow_id: null,
        created_at: expect.any(String),
        secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      });
    }
    const one = await call(api.url, "GET", `/api/v1/webhooks/${created[0]!.body.id}`);
    expect(one.status).toBe(200);
    const { secret: _, ...shown } = created[0]!.body;
    expect(one.body).toEqual(shown);

    const ids = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; body: { items: Record<string, unknown>[]; next_cursor: string | null } } = await call(
        api.url,
        "GET",
        `/api/v1/webhooks?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      for (const item of page.body.items) {
        expect(item).not.toHaveProperty("secret");
        expect(ids.has(item.id as string)).toBe(false);
        ids.add(item.id as string);
      }
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor && pages < 1000);
    expect(pages).toBeGreaterThanOrEqual(2);
    for (const r of created) expect(ids.has(r.body.id)).toBe(true);
    expect((await call(api.url, "GET", "/api/v1/webhooks?cursor=AAAA")).status).toBe(400);

    for (const r of created) expect((await call(api.url, "DELETE", `/api/v1/webhooks/${r.body.id}`)).status).toBe(204);
    expect((await call(api.url, "GET", `/api/v1/webhooks/${created[0]!.body.id}`)).status).toBe(404);
    expect((await call(api.url, "DELETE", `/api/v1/webhooks/${created[0]!.body.id}`)).status).toBe(404);
    expect((await call(api.url, "GET", `/api/v1/webhooks/${created[0]!.body.id}/deliveries`)).status).toBe(404);
    expect((await call(api.url, "GET", "/api/v1/webhooks/not-a-uuid")).status).toBe(404);
  });

  test("a url the egress policy refuses, or a bad one, is a 422 at /url", async () => {
    for (const url of [
      "http://127.0.0.1:9/hook", // loopback; only 127.0.0.2 is allowed here
      "http://169.254.169.254/latest/meta-data", // cloud metadata
      "http://10.1.2.3/hook",
      "http://[::1]/hook",
      "ftp://127.0.0.2/hook",
      "not a url",
    ]) {
      const r = await createHook({ url, events: ["run.completed"] });
      expect({ url, status: r.status }).toEqual({ url, status: 422 });
      expect(r.headers.get("content-type")).toStartWith("application/problem+json");
      expect(r.body.errors.map((e: { path: string }) => e.path)).toEqual(["/url"]);
    }
    const loopback = await createHook({ url: "http://127.0.0.1:9/hook", events: ["run.completed"] });
    expect(loopback.body.errors[0].message).toContain("loopback");
  });

  test("events: at least one, each known and named once; an unknown workflow is a 422 at /workflow_id", async () => {
    const bad = async (body: Record<string, unknown>) => {
      const r = await createHook({ url: hookUrl("bad"), ...body });
      expect(r.status).toBe(422);
      return r.body.errors.map((e: { path: string }) => e.path) as string[];
    };
    expect(await bad({ events: [] })).toContain("/events");
    expect(await bad({ events: ["run.completed", "run.completed"] })).toEqual(["/events/1"]);
    expect(await bad({ events: ["run.started"] })).toEqual(["/events/0"]);
    expect(await bad({ events: ["run.failed"], workflow_id: "0190a2a4-2b4e-7c3e-8a4f-0123456789ab" })).toEqual(["/workflow_id"]);
    expect((await createHook({ url: hookUrl("bad") })).status).toBe(422);
    expect((await createHook({ url: hookUrl("bad"), events: ["run.failed"], extra: 1 })).status).toBe(422);
  });
});

describe("deliveries", () => {
  test("retried until the receiver answers 2xx: 500 three times, then 200; the same webhook-id, each signature verifies", async () => {
    const wfOk = await okWorkflow();
    const tag = unique("retried");
    plans.set(tag, (n) => (n <= 3 ? 500 : 200));
    const { id, secret } = await hook(tag, ["run.completed"], wfOk);
    const runId = await trigger(wfOk, { n: 7 });
    const sends = await deliveredTo(tag, runId, secret);

    expect(sends.map((g) => g.status)).toEqual([500, 500, 500, 200]);
    const payloads = sends.map((g) => verified(secret, g));
    expect(new Set(sends.map((g) => g.headers["webhook-id"])).size).toBe(1);
    expect(new Set(sends.map((g) => g.body)).size).toBe(1);
    expect(sends[0]!.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(() =>
      new Webhook(`whsec_${Buffer.from("another secret").toString("base64")}`).verify(sends[0]!.body, sends[0]!.headers),
    ).toThrow();
    const run = (await call(api.url, "GET", `/api/v1/runs/${runId}`)).body;
    expect(payloads[0]).toEqual({
      type: "run.completed",
      timestamp: run.finished_at,
      data: {
        id: runId,
        workflow_id: wfOk,
        workflow_version: 1,
        status: "completed",
        output: { ok: 7 },
        error: null,
        created_at: run.created_at,
        started_at: run.started_at,
        finished_at: run.finished_at,
      },
    });

    const [d, ...others] = await deliveries(id);
    expect(others).toEqual([]);
    expect(d).toMatchObject({ id: sends[0]!.headers["webhook-id"], event: "run.completed", run_id: runId, status: "delivered" });
    expect(d!.attempt_count).toBe(4);
    expect(d!.next_attempt_at).toBeNull();
    expect(d!.attempts.map((a) => a.status_code)).toEqual([500, 500, 500, 200]);
    expect(d!.attempts.map((a) => a.response_body)).toEqual(["not now 1", "not now 2", "not now 3", "thanks 4"]);
    for (const a of d!.attempts) expect([a.error, typeof a.duration_ms]).toEqual([null, "number"]);
    // Each retry waited longer than the one before (2 ms, 120 ms, 720 ms, each ±20 %).
    const at = d!.attempts.map((a) => Date.parse(a.at));
    expect(at[3]! - at[2]!).toBeGreaterThan(at[2]! - at[1]!);
    expect(at[3]! - at[2]!).toBeGreaterThanOrEqual(500);
  });

  test("a webhook of one workflow gets only that workflow's runs; one of no workflow gets them all", async () => {
    const wfOk = await okWorkflow();
    const one = unique("one-workflow");
    const all = unique("all-workflows");
    const h1 = await hook(one, ["run.completed"], wfOk);
    const hAll = await hook(all, ["run.completed"]);
    const mine = await trigger(wfOk, { n: 1 });
    const other = await trigger(wfOther);
    await deliveredTo(all, mine, hAll.secret, 0);
    await deliveredTo(all, other, hAll.secret, 0);
    expect((await deliveredTo(one, mine, h1.secret)).length).toBe(1);
    expect(received(one).map((g) => verified(h1.secret, g).data.id)).toEqual([mine]);
    expect((await deliveries(h1.id)).map((d) => d.run_id)).toEqual([mine]);

    // Paged newest first, by a cursor bound to this webhook's deliveries.
    const first = await call(api.url, "GET", `/api/v1/webhooks/${hAll.id}/deliveries?limit=1`);
    expect(first.body.items.length).toBe(1);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await call(api.url, "GET", `/api/v1/webhooks/${hAll.id}/deliveries?limit=1&cursor=${first.body.next_cursor}`);
    expect(second.status).toBe(200);
    expect(second.body.items.length).toBe(1);
    expect(Date.parse(second.body.items[0].created_at)).toBeLessThanOrEqual(Date.parse(first.body.items[0].created_at));
    expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
    const elsewhere = await call(api.url, "GET", `/api/v1/webhooks/${h1.id}/deliveries?cursor=${first.body.next_cursor}`);
    expect(elsewhere.status).toBe(400);
    await call(api.url, "DELETE", `/api/v1/webhooks/${hAll.id}`);
  });

  test("events: a webhook of run.failed only gets the failed run, with its error", async () => {
    const tag = unique("failed-only");
    const { id, secret } = await hook(tag, ["run.failed"], wfMaybe);
    const ok = await trigger(wfMaybe, { path: "fine" });
    const bad = await trigger(wfMaybe, { path: "broken/x" });
    await waitFor("both runs to end", async () => (await runStatus(ok)) === "completed" && (await runStatus(bad)) === "failed", 20_000);
    const [send] = await deliveredTo(tag, bad, secret);
    const payload = verified(secret, send!);
    expect(payload.type).toBe("run.failed");
    expect(payload.data).toMatchObject({ id: bad, status: "failed", error: expect.any(String) });
    expect(received(tag).length).toBe(1);
    expect((await deliveries(id)).map((d) => [d.run_id, d.event])).toEqual([[bad, "run.failed"]]);
  });

  test("a run cancelled with POST /runs/{id}/cancel is delivered as run.cancelled", async () => {
    const tag = unique("cancelled");
    const { secret } = await hook(tag, ["run.cancelled", "run.completed"], wfSlow);
    const runId = await trigger(wfSlow);
    await waitFor("the run to start", async () => (await runStatus(runId)) === "running", 20_000);
    expect((await call(api.url, "POST", `/api/v1/runs/${runId}/cancel`)).status).toBe(200);
    const [send, ...more] = await deliveredTo(tag, runId, secret);
    expect(more).toEqual([]);
    expect(verified(secret, send!)).toMatchObject({ type: "run.cancelled", data: { id: runId, status: "cancelled" } });
  });

  test("a bulk cancel delivers run.cancelled for each run it cancels", async () => {
    const tag = unique("bulk");
    const wf = await okWorkflow();
    const { secret } = await hook(tag, ["run.cancelled"], wf);
    const ids = await Promise.all([1, 2, 3].map(() => triggerRun(api.url, { workflow_id: wf, delay_ms: 600_000 })));
    const r = await call(api.url, "POST", "/api/v1/runs/bulk/cancel", { workflow_id: wf });
    expect(r.body).toEqual({ matched: 3, affected: 3 });
    for (const id of ids) {
      const [send, ...more] = await deliveredTo(tag, id, secret, 0);
      expect(more).toEqual([]);
      expect(verified(secret, send!)).toMatchObject({ type: "run.cancelled", data: { id, status: "cancelled" } });
    }
  });

  test("a cancel delivers run.cancelled for the run and for the child runs it cancels, each to its workflow's webhooks", async () => {
    const [parentTag, childTag] = [unique("parent"), unique("child")];
    const parentWf = await createWorkflowOn(api.url, {
      name: unique("parent"),
      steps: [{ name: "call", type: "workflow", config: { workflow_id: wfSlow } }],
    });
    const parentHook = await hook(parentTag, ["run.cancelled"], parentWf);
    const childHook = await hook(childTag, ["run.cancelled"], wfSlow);
    const parent = await trigger(parentWf);
    const child = await waitFor(
      "the child run to start",
      async () =>
        (
          await api.services.sql<{ id: string }[]>`
          SELECT id FROM runs WHERE parent_run_id = ${parent}::uuid AND status = 'running'`
        )[0]?.id,
      20_000,
    );
    expect((await call(api.url, "POST", `/api/v1/runs/${parent}/cancel`)).status).toBe(200);
    const [p] = await deliveredTo(parentTag, parent, parentHook.secret, 0);
    const [c] = await deliveredTo(childTag, child, childHook.secret);
    expect(verified(parentHook.secret, p!).data).toMatchObject({ id: parent, status: "cancelled" });
    expect(verified(childHook.secret, c!).data).toMatchObject({ id: child, status: "cancelled" });
    expect(received(parentTag).length).toBe(1);
    expect(received(childTag).length).toBe(1);
  });

  test("a delivery without a 2xx by the time it is WEBHOOK_RETRY_MAX_AGE_MS old has failed: no more attempts", async () => {
    const wfOk = await okWorkflow();
    const tag = unique("never");
    plans.set(tag, () => 503);
    const { id } = await hook(tag, ["run.completed"], wfOk);
    await trigger(wfOk, { n: 2 });
    const [d] = await waitFor(
      "the delivery to fail",
      async () => ((ds) => (ds[0]?.status === "failed" ? ds : undefined))(await deliveries(id)),
      20_000,
      100,
    );
    expect(d!.next_attempt_at).toBeNull();
    expect(d!.attempt_count).toBe(received(tag).length);
    expect(d!.attempt_count).toBeGreaterThanOrEqual(4);
    expect(d!.attempts.every((a) => a.status_code === 503)).toBe(true);
    // The last attempt came once the delivery was at least 2 s old.
    expect(Date.parse(d!.attempts.at(-1)!.at) - Date.parse(d!.attempts[0]!.at)).toBeGreaterThanOrEqual(1500);
    const count = received(tag).length;
    await Bun.sleep(1000);
    expect(received(tag).length).toBe(count);
  });

  test("deleting a webhook stops its deliveries, retries included", async () => {
    const wfOk = await okWorkflow();
    const tag = unique("deleted");
    plans.set(tag, () => 500);
    const { id } = await hook(tag, ["run.completed"], wfOk);
    await trigger(wfOk, { n: 3 });
    await waitFor("a first attempt", async () => received(tag).length >= 1, 20_000, 20);
    expect((await call(api.url, "DELETE", `/api/v1/webhooks/${id}`)).status).toBe(204);
    await Bun.sleep(300); // an attempt in flight at the delete may still land
    const count = received(tag).length;
    await Bun.sleep(2500); // past the next retries (120 ms, 720 ms, 2.9 s after each failure)
    expect(received(tag).length).toBe(count);
    const [left] = await api.services.sql`SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = ${id}::uuid`;
    expect(left!.n).toBe(0);
  });
});

describe("the terminal write's cost", () => {
  type Plan = { "Node Type": string; "Actual Loops": number; Plans?: Plan[] };
  const nodes = (p: Plan): Plan[] => [p, ...(p.Plans ?? []).flatMap(nodes)];
  /** The plan of enqueueWebhooks over 50 ended runs, executed (and rolled back) with the webhooks the callback leaves. */
  const plan = async (setup: (tx: typeof api.services.sql) => Promise<unknown>) => {
    let found: { plan: Plan; inserted: number } | undefined;
    await api.services.sql
      .begin(async (transaction) => {
        const tx = transaction as unknown as typeof api.services.sql;
        await setup(tx);
        const [row] = await tx<{ "QUERY PLAN": [{ Plan: Plan }] }[]>`
          EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON)
          WITH done AS (SELECT id, workflow_id, 'completed'::text AS status FROM runs LIMIT 50),
               hooks AS (${enqueueWebhooks(tx, "done")} RETURNING 1)
          SELECT count(*) FROM done`;
        // This transaction's rows (xmin): deliveries of other transactions are not counted.
        const [n] = await tx<{ n: number }[]>`
          SELECT count(*)::int AS n FROM webhook_deliveries WHERE xmin::text = txid_current()::text`;
        found = { plan: row!["QUERY PLAN"][0].Plan, inserted: n!.n };
        throw new Error("rollback");
      })
      .catch((err) => {
        if (!(err instanceof Error && err.message === "rollback")) throw err;
      });
    return found!;
  };

  test("with no webhook at all, the deliveries' join is never executed (a one-time filter)", async () => {
    // In this transaction only: other tests' webhooks are not seen deleted by anyone else.
    const { plan: p, inserted } = await plan((tx) => tx`DELETE FROM webhooks`);
    const joins = nodes(p).filter((n) => n["Node Type"] === "Nested Loop" || n["Node Type"].endsWith("Join"));
    expect(joins.length).toBeGreaterThan(0);
    expect(joins.map((n) => n["Actual Loops"])).toEqual(joins.map(() => 0));
    expect(inserted).toBe(0);
  });

  test("with a webhook of every workflow, a delivery per run", async () => {
    const { inserted } = await plan(
      (tx) => tx`
        INSERT INTO webhooks (id, url, events, workflow_id, secret, topic, created_at)
        VALUES (${crypto.randomUUID()}::uuid, 'http://127.0.0.2/x', '{run.completed}', NULL, 'whsec_eA==', ${unique("nobody")}, now())`,
    );
    expect(inserted).toBe(50);
  });
});

describe("nothing lost", () => {
  test("kill -9 of the API process between the runs' ends and their delivery: both are delivered once the receiver is back", async () => {
    const tags = [unique("api-killed-cancel"), unique("api-killed-end")];
    let down = true;
    for (const tag of tags) plans.set(tag, () => (down ? 503 : 200));
    const port = await freePort();
    const proc: Subprocess = Bun.spawn([process.execPath, join(import.meta.dir, "../../api/src/server.ts")], {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: "127.0.0.1",
        KAFKA_RUNS_TOPIC: api.config.runsTopic,
        EGRESS_ALLOW: "127.0.0.2",
        LOG_LEVEL: "warn",
      },
      stdout: "inherit",
      stderr: "inherit",
    });
    const other = `http://127.0.0.1:${port}`;
    try {
      await waitFor("the API process", async () => (await fetch(`${other}/health`).catch(() => undefined))?.ok, 30_000);
      const slow = await createWorkflowOn(other, {
        name: unique("slow"),
        steps: [{ name: "nap", type: "delay", config: { ms: 600_000 } }],
      });
      const short = await createWorkflowOn(other, { name: unique("short"), steps: [{ name: "s", type: "delay", config: { ms: 10 } }] });
      const hooks = await Promise.all(
        [slow, short].map((wf, i) =>
          call(other, "POST", "/api/v1/webhooks", { url: hookUrl(tags[i]!), events: ["run.completed", "run.cancelled"], workflow_id: wf }),
        ),
      );
      expect(hooks.map((h) => h.status)).toEqual([201, 201]);
      const cancelled = await triggerRun(other, { workflow_id: slow });
      const completed = await triggerRun(other, { workflow_id: short });
      // The cancel is the API's own terminal write: the API is killed right after it answers.
      expect((await call(other, "POST", `/api/v1/runs/${cancelled}/cancel`)).status).toBe(200);
      proc.kill("SIGKILL");
      await proc.exited;
      await waitFor("the other run to end", async () => (await runStatus(completed)) === "completed", 20_000);
      await waitFor("a refused attempt of each", async () => tags.every((t) => received(t).length > 0), 20_000, 20);
      down = false;
      const sent = [
        await deliveredTo(tags[0]!, cancelled, hooks[0]!.body.secret),
        await deliveredTo(tags[1]!, completed, hooks[1]!.body.secret),
      ];
      for (const sends of sent) expect(sends.filter((g) => g.status === 200).length).toBe(1);
      expect(verified(hooks[0]!.body.secret, sent[0]![0]!).type).toBe("run.cancelled");
      expect(verified(hooks[1]!.body.secret, sent[1]![0]!).type).toBe("run.completed");
    } finally {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    }
  });

  test("kill -9 of the worker mid-send: the delivery is sent again once its lease lapses, with the same webhook-id", async () => {
    const wfOk = await okWorkflow();
    const tag = unique("worker-killed");
    // The first request stalls (its worker dies meanwhile); later ones are answered at once.
    plans.set(tag, async (n) => {
      if (n === 1) await Bun.sleep(8000);
      return 200;
    });
    const { id, secret } = await hook(tag, ["run.completed"], wfOk);
    const runId = await trigger(wfOk, { n: 4 });
    await waitFor("the first send", async () => received(tag).length === 1, 20_000, 10);
    const [row] = await api.services.sql<{ lease_owner: string }[]>`
      SELECT lease_owner FROM webhook_deliveries WHERE webhook_id = ${id}::uuid`;
    const pid = Number(row!.lease_owner.split(":")[1]);
    const victim = workers.procs.find((p) => p.pid === pid);
    expect(victim).toBeDefined();
    victim!.kill("SIGKILL");
    await victim!.exited;
    workers.add();

    const sends = await deliveredTo(tag, runId, secret);
    expect(sends.length).toBe(2);
    expect(sends[0]!.headers["webhook-id"]).toBe(sends[1]!.headers["webhook-id"]);
    const [d] = await deliveries(id);
    // The killed worker recorded nothing; the second send, 2 × WEBHOOK_TIMEOUT_MS after the first was taken, did.
    expect(d).toMatchObject({ status: "delivered", attempt_count: 1 });
    expect(Date.parse(d!.attempts[0]!.at) - Date.parse(d!.created_at)).toBeGreaterThanOrEqual(5000);
  });
});
