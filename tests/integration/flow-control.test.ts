import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, startApi, type TestApi, triggerRun, unique } from "../support/api.ts";

// Version 2's flow control through the API, with no worker: the workflow-level `concurrency` and
// `timeout_ms` (validated, stored, versioned, pinned on each run with its key value), and
// `run_at` / `delay_ms` on the trigger (a delayed run waits with its wake_at and no message).
let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api.stop();
});

const steps = [{ name: "only", type: "transform", config: { output: "{{input.customer}}" } }];
const create = async (extra: Record<string, unknown> = {}) => {
  const r = await call(api.url, "POST", "/api/v1/workflows", { name: unique("flow"), steps, ...extra });
  expect(r.status).toBe(201);
  return r.body as { id: string } & Record<string, unknown>;
};
const trigger = (body: Record<string, unknown>) => triggerRun(api.url, body);

interface Row {
  status: string;
  wake_at: Date | null;
  created_at: Date;
  concurrency_limit: number | null;
  concurrency_key: string | null;
  timeout_ms: number | null;
  outbox: number;
}
const row = async (id: string) =>
  (
    await api.services.sql<Row[]>`
      SELECT status, wake_at, created_at, concurrency_limit, concurrency_key, timeout_ms,
             (SELECT count(*)::int FROM outbox WHERE key = ${id}) AS outbox
      FROM runs WHERE id = ${id}::uuid`
  )[0]!;
/** The paths named, once each: a schema's validator may name one field twice. */
const errorPaths = (body: { errors?: { path: string }[] }) => [...new Set((body.errors ?? []).map((e) => e.path))].sort();

describe("workflow-level concurrency and timeout_ms", () => {
  test("are stored, shown, replaced and kept in each version; absent ones are not shown", async () => {
    const wf = await create({ concurrency: { limit: 5, key: "{{input.customer}}" }, timeout_ms: 60_000 });
    expect(wf).toMatchObject({ concurrency: { limit: 5, key: "{{input.customer}}" }, timeout_ms: 60_000, version: 1 });
    expect((await call(api.url, "GET", `/api/v1/workflows/${wf.id}`)).body).toMatchObject({
      concurrency: { limit: 5, key: "{{input.customer}}" },
      timeout_ms: 60_000,
    });

    const replaced = await call(api.url, "PUT", `/api/v1/workflows/${wf.id}`, { name: "v2", steps, concurrency: { limit: 2 } });
    expect(replaced.status).toBe(200);
    expect(replaced.body.concurrency).toEqual({ limit: 2 });
    expect("timeout_ms" in replaced.body).toBe(false);

    const versions = (await call(api.url, "GET", `/api/v1/workflows/${wf.id}/versions`)).body.items;
    expect(versions.map((v: Record<string, unknown>) => [v.version, v.concurrency, v.timeout_ms])).toEqual([
      [2, { limit: 2 }, undefined],
      [1, { limit: 5, key: "{{input.customer}}" }, 60_000],
    ]);

    const plain = await create();
    expect("concurrency" in plain || "timeout_ms" in plain).toBe(false);
  });

  test("bad values are 422s with their paths, on create and on replace", async () => {
    const bad: Array<[Record<string, unknown>, string[]]> = [
      [{ concurrency: { limit: 0 } }, ["/concurrency/limit"]],
      [{ concurrency: { limit: 10_001 } }, ["/concurrency/limit"]],
      [{ concurrency: { limit: 1.5 } }, ["/concurrency/limit"]],
      [{ concurrency: {} }, ["/concurrency/limit"]],
      [{ concurrency: { limit: 1, key: "" } }, ["/concurrency/key"]],
      [{ concurrency: { limit: 1, key: "{{steps.only.output}}" } }, ["/concurrency/key"]],
      [{ concurrency: { limit: 1, key: "{{ nope }}" } }, ["/concurrency/key"]],
      [{ concurrency: { limit: 1, per: "customer" } }, ["/concurrency/per"]],
      [{ timeout_ms: 0 }, ["/timeout_ms"]],
      [{ timeout_ms: 30 * 24 * 3_600_000 + 1 }, ["/timeout_ms"]],
      [{ timeout_ms: "1000" }, ["/timeout_ms"]],
    ];
    const existing = await create();
    for (const [extra, paths] of bad) {
      const created = await call(api.url, "POST", "/api/v1/workflows", { name: "bad", steps, ...extra });
      expect({ extra, status: created.status, paths: errorPaths(created.body) }).toEqual({ extra, status: 422, paths });
      const replaced = await call(api.url, "PUT", `/api/v1/workflows/${existing.id}`, { name: "bad", steps, ...extra });
      expect({ extra, status: replaced.status, paths: errorPaths(replaced.body) }).toEqual({ extra, status: 422, paths });
    }
  });

  test("a run pins the limit, its key's value computed from its input, and the timeout of the version it was triggered with", async () => {
    const wf = await create({
      concurrency: { limit: 3, key: "c-{{input.customer}}/{{input.n}}/{{input.tags}}{{input.none}}" },
      timeout_ms: 5000,
    });
    const a = await trigger({ workflow_id: wf.id, input: { customer: "acme", n: 7, tags: ["x", 1] } });
    const b = await trigger({ workflow_id: wf.id, input: { customer: { id: 1 }, n: null } });
    expect(await row(a)).toMatchObject({ concurrency_limit: 3, concurrency_key: 'c-acme/7/["x", 1]', timeout_ms: 5000 });
    expect(await row(b)).toMatchObject({ concurrency_limit: 3, concurrency_key: 'c-{"id": 1}//' });

    // Replaced: new runs take the new limit (no key: one for all); the earlier run keeps its own.
    await call(api.url, "PUT", `/api/v1/workflows/${wf.id}`, { name: "v2", steps, concurrency: { limit: 1 } });
    const c = await trigger({ workflow_id: wf.id, input: { customer: "acme" } });
    expect(await row(c)).toMatchObject({ concurrency_limit: 1, concurrency_key: "", timeout_ms: null });
    expect(await row(a)).toMatchObject({ concurrency_limit: 3, concurrency_key: 'c-acme/7/["x", 1]', timeout_ms: 5000 });

    // A key value too long for the index is hashed; an unlimited workflow's runs have none.
    const long = await create({ concurrency: { limit: 1, key: "{{input.s}}" } });
    expect((await row(await trigger({ workflow_id: long.id, input: { s: "x".repeat(300) } }))).concurrency_key).toMatch(
      /^md5:[0-9a-f]{32}$/,
    );
    expect(await row(await trigger({ workflow_id: (await create()).id }))).toMatchObject({
      concurrency_limit: null,
      concurrency_key: null,
    });
  });
});

describe("trigger: run_at and delay_ms", () => {
  test("a run for later is answered pending and waits with its wake_at and no outbox message", async () => {
    const wf = await create();
    const runAt = new Date(Date.now() + 3_600_000);
    const at = await trigger({ workflow_id: wf.id, run_at: runAt.toISOString() });
    expect(await row(at)).toMatchObject({ status: "pending", wake_at: runAt, outbox: 0 });

    const before = Date.now();
    const later = await trigger({ workflow_id: wf.id, delay_ms: 600_000 });
    const r = await row(later);
    expect(r).toMatchObject({ status: "pending", outbox: 0 });
    expect(r.wake_at!.getTime()).toBeGreaterThanOrEqual(before + 600_000 - 1000);
    expect(r.wake_at!.getTime()).toBeLessThanOrEqual(Date.now() + 600_000 + 1000);

    // With an offset: the same instant.
    const offset = await trigger({ workflow_id: wf.id, run_at: "2999-01-01T01:00:00+01:00" });
    expect((await row(offset)).wake_at).toEqual(new Date("2999-01-01T00:00:00Z"));
    const got = await call(api.url, "GET", `/api/v1/runs/${offset}`);
    expect(got.body).toMatchObject({ status: "pending", started_at: null });
  });

  test("a run_at already past, or a delay_ms of 0, starts now: an ordinary pending run with its message", async () => {
    const wf = await create();
    for (const body of [{ run_at: "2001-01-01T00:00:00Z" }, { delay_ms: 0 }]) {
      const id = await trigger({ workflow_id: wf.id, ...body });
      const r = await row(id);
      expect(r.wake_at).toBeNull();
      // The outbox row goes once Kafka acknowledged the publish: either it is still there or it was published.
      expect(r.status).toBe("pending");
    }
  });

  test("the same idempotency key returns the same delayed run", async () => {
    const wf = await create();
    const key = unique("later");
    const first = await trigger({ workflow_id: wf.id, delay_ms: 60_000, idempotency_key: key });
    const again = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: wf.id, delay_ms: 5, idempotency_key: key });
    expect(again.status).toBe(202);
    expect(again.body.run_id).toBe(first);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
  });

  test("bad values are 422s with their paths", async () => {
    const wf = await create();
    const bad: Array<[Record<string, unknown>, string[]]> = [
      [{ run_at: "2024-02-30T10:00:00Z" }, ["/run_at"]],
      [{ run_at: "2023-02-29T10:00:00Z" }, ["/run_at"]],
      [{ run_at: "2030-01-01T10:00:00" }, ["/run_at"]],
      [{ run_at: "next tuesday" }, ["/run_at"]],
      [{ run_at: 1_700_000_000 }, ["/run_at"]],
      [{ delay_ms: -1 }, ["/delay_ms"]],
      [{ delay_ms: 30 * 24 * 3_600_000 + 1 }, ["/delay_ms"]],
      [{ delay_ms: 2.5 }, ["/delay_ms"]],
      [{ delay_ms: "100" }, ["/delay_ms"]],
      [{ run_at: "2030-01-01T10:00:00Z", delay_ms: 100 }, ["/delay_ms"]],
    ];
    for (const [extra, paths] of bad) {
      const r = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: wf.id, ...extra });
      expect({ extra, status: r.status, type: r.headers.get("content-type"), paths: errorPaths(r.body) }).toEqual({
        extra,
        status: 422,
        type: "application/problem+json",
        paths,
      });
    }
    const both = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: wf.id, run_at: "2030-01-01T10:00:00Z", delay_ms: 100 });
    expect(both.body.errors).toEqual([{ path: "/delay_ms", message: "give run_at or delay_ms, not both" }]);
  });

  test("the OpenAPI document describes both fields", async () => {
    const doc = (await call(api.url, "GET", "/swagger/json")).body;
    const body = doc.paths["/api/v1/trigger"].post.requestBody.content["application/json"].schema;
    const schema = body.$ref ? doc.components.schemas[body.$ref.split("/").pop()] : body;
    expect(schema.properties.run_at).toMatchObject({ type: "string", format: "date-time" });
    expect(schema.properties.delay_ms).toMatchObject({ type: "integer", minimum: 0, maximum: 30 * 24 * 3_600_000 });
  });
});
