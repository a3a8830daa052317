import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, sampleWorkflow, startApi, type TestApi } from "../support/api.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.stop());

const PROBLEM = "application/problem+json";

describe("workflows", () => {
  test("create, get, replace, delete", async () => {
    const def = sampleWorkflow();
    const created = await call(api.url, "POST", "/api/v1/workflows", def);
    expect(created.status).toBe(201);
    expect(created.headers.get("content-type")).toStartWith("application/json");
    const wf = created.body;
    expect(wf).toMatchObject({ name: def.name, description: def.description, steps: def.steps, version: 1 });
    expect(wf.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Date.parse(wf.created_at)).not.toBeNaN();
    expect(wf.updated_at).toBe(wf.created_at);

    const got = await call(api.url, "GET", `/api/v1/workflows/${wf.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(wf);

    const replaced = await call(api.url, "PUT", `/api/v1/workflows/${wf.id}`, { ...def, name: "renamed", description: null });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ id: wf.id, name: "renamed", description: null, version: 2, created_at: wf.created_at });
    expect(Date.parse(replaced.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(wf.updated_at));
    expect((await call(api.url, "GET", `/api/v1/workflows/${wf.id}`)).body).toEqual(replaced.body);

    const deleted = await call(api.url, "DELETE", `/api/v1/workflows/${wf.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBe("");
    for (const [method, body] of [["GET"], ["PUT", def], ["DELETE"]] as const) {
      const r = await call(api.url, method, `/api/v1/workflows/${wf.id}`, body);
      expect(r.status).toBe(404);
      expect(r.headers.get("content-type")).toStartWith(PROBLEM);
    }
    const trigger = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: wf.id });
    expect(trigger.status).toBe(404);
  });

  test("unknown and malformed ids are 404 problems", async () => {
    for (const id of ["0190a000-0000-7000-8000-000000000000", "not-a-uuid", "1", "%27%20OR%201=1"]) {
      const r = await call(api.url, "GET", `/api/v1/workflows/${id}`);
      expect(r.status).toBe(404);
      expect(r.headers.get("content-type")).toStartWith(PROBLEM);
      expect(r.body).toMatchObject({ status: 404, title: "Not Found" });
    }
  });

  test("schema violations are 422 with a path per error", async () => {
    const cases: Array<[unknown, string]> = [
      [{ steps: sampleWorkflow().steps }, "/name"],
      [{ name: "x", steps: [] }, "/steps"],
      [{ name: "x", steps: [{ name: "a", type: "shell", config: {} }] }, "/steps/0/type"],
      [{ name: "x", steps: [{ name: "a", type: "delay", config: { ms: "soon" } }] }, "/steps/0/config/ms"],
      [{ name: "x", steps: [{ name: "a", type: "http", config: { method: "GET", url: "nope" } }] }, "/steps/0/config/url"],
      [
        {
          name: "x",
          steps: [
            { name: "a", type: "log", config: { message: "{{steps.later.x}}" } },
            { name: "later", type: "delay", config: { ms: 1 } },
          ],
        },
        "/steps/0/config/message",
      ],
      [{ name: "x", steps: [{ name: "a", type: "delay", config: { ms: 1 } }], extra: 1 }, ""],
      // JSON integers only: a string of digits is not converted, on either server.
      [
        { name: "x", steps: [{ name: "a", type: "delay", config: { ms: 1 }, retry: { max_attempts: "3", backoff_ms: 100 } }] },
        "/steps/0/retry/max_attempts",
      ],
      [
        { name: "x", steps: [{ name: "a", type: "delay", config: { ms: 1 }, retry: { max_attempts: 3, backoff_ms: 1.5 } }] },
        "/steps/0/retry/backoff_ms",
      ],
      [[1, 2], ""],
    ];
    for (const [body, path] of cases) {
      const r = await call(api.url, "POST", "/api/v1/workflows", body);
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect(r.headers.get("content-type")).toStartWith(PROBLEM);
      expect(r.body.type).toContain("validation");
      expect(r.body.errors.length).toBeGreaterThan(0);
      if (path) expect(r.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
  });

  test("replace validates like create", async () => {
    const wf = (await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow())).body;
    const r = await call(api.url, "PUT", `/api/v1/workflows/${wf.id}`, { name: "x", steps: [{ name: "a", type: "nope", config: {} }] });
    expect(r.status).toBe(422);
    expect((await call(api.url, "GET", `/api/v1/workflows/${wf.id}`)).body.version).toBe(1);
  });
});
