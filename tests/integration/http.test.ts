import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import apiPackage from "../../api/package.json" with { type: "json" };
import { call, expectTooLarge, sampleWorkflow, startApi, type TestApi } from "../support/api.ts";
import { checkResponse } from "../support/openapi-check.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startApi({ bodyLimitBytes: 64 * 1024 });
});
afterAll(() => api.stop());

const PROBLEM = "application/problem+json";

describe("HTTP conventions", () => {
  test("GET /health touches nothing and says ok", async () => {
    const r = await call(api.url, "GET", "/health");
    expect([r.status, r.body]).toEqual([200, { status: "ok" }]);
  });

  test("GET / describes the service", async () => {
    const r = await call(api.url, "GET", "/");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: "workflow-service", runtime: api.target, pid: api.pid });
    expect(r.body.runtime_version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(r.body.links.docs).toBe("/swagger");
    expect(r.body.version).toBe(apiPackage.version); // the one product version, on either runtime
  });

  test("GET /health/ready reports each dependency", async () => {
    const r = await call(api.url, "GET", "/health/ready");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: "ok", checks: { postgres: "up", redis: "up", kafka: "up" } });
  });

  test("GET /metrics is Prometheus text with request durations", async () => {
    await call(api.url, "GET", "/health");
    const r = await call(api.url, "GET", "/metrics");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toStartWith("text/plain");
    const lines = (r.body as string).split("\n");
    expect(lines.some((l) => /^http_request_duration_seconds_count\{.*method="GET",route="\/health",status="200".*\} [1-9]/.test(l))).toBe(
      true,
    );
    expect(lines.some((l) => l.startsWith("cache_operations_total{"))).toBe(true);
  });

  test("every response carries x-request-id, echoed when sent", async () => {
    const mine = await call(api.url, "GET", "/health", undefined, { "x-request-id": "abc-123" });
    expect(mine.headers.get("x-request-id")).toBe("abc-123");
    const minted = await call(api.url, "GET", "/api/v1/workflows/nope");
    expect(minted.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await call(api.url, "GET", "/health", undefined, { "x-request-id": "a b\tc" });
    expect(hostile.headers.get("x-request-id")).not.toBe("a b\tc");
    const onError = await call(api.url, "POST", "/api/v1/workflows", "{", { "x-request-id": "err-1" });
    expect(onError.headers.get("x-request-id")).toBe("err-1");
    // list pages build their own Response (api/src/http/responses.ts) and must carry it too
    for (const path of ["/api/v1/workflows?limit=1", "/api/v1/runs?limit=1"]) {
      const page = await call(api.url, "GET", path, undefined, { "x-request-id": "page-1" });
      expect({ path, status: page.status, id: page.headers.get("x-request-id") }).toEqual({ path, status: 200, id: "page-1" });
    }
  });

  test("malformed JSON is a 400 problem", async () => {
    for (const body of ["{", '{"name": }', "nul", '{"a":1}}']) {
      const r = await call(api.url, "POST", "/api/v1/workflows", body);
      expect(r.status).toBe(400);
      expect(r.headers.get("content-type")).toStartWith(PROBLEM);
      expect(r.body).toMatchObject({ status: 400, title: "Malformed JSON" });
    }
  });

  test("a body that is not JSON is a 415 problem", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "application/xml"]) {
      const r = await call(api.url, "POST", "/api/v1/workflows", JSON.stringify(sampleWorkflow()), { "content-type": type });
      expect(r.status).toBe(415);
      expect(r.headers.get("content-type")).toStartWith(PROBLEM);
    }
    const charset = await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow(), {
      "content-type": "application/json; charset=utf-8",
    });
    expect(charset.status).toBe(201);
  });

  test("an oversized body is a 413 problem, declared or chunked", async () => {
    const big = JSON.stringify({ ...sampleWorkflow(), description: "x".repeat(70 * 1024) });
    await expectTooLarge(api.url, "/api/v1/workflows", big, 8192);
  });

  test("unknown routes are 404 problems", async () => {
    for (const [m, p] of [
      ["GET", "/nope"],
      ["GET", "/api/v1"],
      ["PATCH", "/api/v1/nope"],
    ]) {
      const r = await call(api.url, m!, p!);
      expect(r.status).toBe(404);
      expect(r.headers.get("content-type")).toStartWith(PROBLEM);
      expect(r.headers.get("allow")).toBeNull();
    }
  });

  test("a known path asked with a method it does not answer is a 405 problem with Allow", async () => {
    const cases = [
      ["PATCH", "/api/v1/workflows", "GET, HEAD, POST"],
      ["POST", `/api/v1/workflows/${crypto.randomUUID()}`, "DELETE, GET, HEAD, PUT"],
      ["GET", "/api/v1/trigger", "POST"],
      ["HEAD", "/api/v1/trigger", "POST"],
      ["DELETE", `/api/v1/runs/${crypto.randomUUID()}/cancel`, "POST"],
      ["TRACE", "/health", "GET, HEAD"],
      ["OPTIONS", "/metrics", "GET, HEAD"],
      // A body method without a content type: Fastify once failed this before routing, with a 500.
      ["QUERY", "/api/v1/runs", "GET, HEAD"],
    ] as const;
    for (const [method, path, allow] of cases) {
      const r = await call(api.url, method, path);
      // fetch hands no body back for HEAD and TRACE answers (curl shows the same problem there).
      const body =
        method === "HEAD" || method === "TRACE"
          ? r.body
          : { status: 405, title: "Method Not Allowed", detail: `this path answers ${allow} only` };
      const got = {
        method,
        path,
        status: r.status,
        allow: r.headers.get("allow"),
        type: r.headers.get("content-type")?.split(";")[0],
        body: r.body,
      };
      expect(got).toMatchObject({ method, path, status: 405, allow, type: PROBLEM, body });
    }
  });

  test("a bad query is a 400 problem", async () => {
    for (const q of ["limit=0", "limit=201", "limit=abc", "limit=1.5"]) {
      const r = await call(api.url, "GET", `/api/v1/workflows?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.headers.get("content-type")).toStartWith(PROBLEM);
    }
    for (const q of ["status=done", "workflow_id=xyz"]) {
      const r = await call(api.url, "GET", `/api/v1/runs?${q}`);
      expect(r.status, q).toBe(400);
    }
  });

  test("answers are checked against the published OpenAPI document, and a wrong one is caught", async () => {
    const wf = (await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow())).body;
    expect(await checkResponse(api.url, "GET", `/api/v1/workflows/${wf.id}`, 200, wf)).toBeNull();
    expect(await checkResponse(api.url, "GET", `/api/v1/workflows/${wf.id}`, 200, { ...wf, version: "two" })).toContain("version");
    expect(await checkResponse(api.url, "GET", "/api/v1/runs?limit=5", 200, { items: [{ id: 1 }], next_cursor: null })).toContain("items");
    expect(await checkResponse(api.url, "DELETE", `/api/v1/workflows/${wf.id}`, 500, {})).toContain("does not document");
    // A problem sent as plain JSON is not what the document says.
    const problem = { type: "https://workflow-service.dev/problems/not-found", title: "Not Found", status: 404, detail: "x" };
    expect(await checkResponse(api.url, "GET", `/api/v1/workflows/${wf.id}`, 404, problem, PROBLEM)).toBeNull();
    expect(await checkResponse(api.url, "GET", `/api/v1/workflows/${wf.id}`, 404, problem, "application/json")).toContain(
      "documented as application/problem+json",
    );
  });

  test("the OpenAPI document lists every operation of the contract", async () => {
    const r = await call(api.url, "GET", "/swagger/json");
    expect(r.status).toBe(200);
    const ops = Object.entries(r.body.paths as Record<string, Record<string, unknown>>).flatMap(([p, m]) =>
      Object.keys(m).map((k) => `${k.toUpperCase()} ${p}`),
    );
    for (const op of [
      "GET /health",
      "GET /health/ready",
      "GET /",
      "GET /metrics",
      "POST /api/v1/workflows",
      "GET /api/v1/workflows",
      "GET /api/v1/workflows/{id}",
      "PUT /api/v1/workflows/{id}",
      "DELETE /api/v1/workflows/{id}",
      "POST /api/v1/trigger",
      "GET /api/v1/runs/{id}",
      "GET /api/v1/runs",
      "POST /api/v1/runs/{id}/cancel",
    ])
      expect(ops).toContain(op);
  });
});

describe("paths and query strings: one answer, whichever server", () => {
  // Each of these once had a different answer on the Bun API and on the Node reference.
  const expectStatus = async (method: string, path: string, status: number, body?: unknown) => {
    const r = await call(api.url, method, path, body);
    expect({ method, path, status: r.status, type: r.headers.get("content-type")?.split(";")[0] }).toEqual({
      method,
      path,
      status,
      type: PROBLEM,
    });
    return r;
  };

  test("a path with a trailing slash is not the route: 404", async () => {
    const wf = (await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow())).body;
    await expectStatus("GET", "/health/", 404);
    await expectStatus("GET", "/api/v1/workflows/", 404);
    await expectStatus("GET", `/api/v1/workflows/${wf.id}/`, 404);
    await expectStatus("POST", "/api/v1/trigger/", 404, { workflow_id: wf.id });
  });

  test("an unknown query parameter is a 400 naming it", async () => {
    const r = await expectStatus("GET", "/api/v1/workflows?limit=5&limt=6", 400);
    expect(JSON.stringify(r.body.errors)).toContain("limt");
    await expectStatus("GET", "/api/v1/runs?foo=1", 400);
  });

  test("a query parameter given twice is a 400: which one would count is not for the server to guess", async () => {
    await expectStatus("GET", "/api/v1/workflows?limit=5&limit=6", 400);
    await expectStatus("GET", "/api/v1/runs?status=pending&status=failed", 400);
    await expectStatus("GET", "/api/v1/runs?cursor=a&cursor=b", 400);
  });

  test("limit is written in decimal digits; other spellings of a number are a 400", async () => {
    for (const limit of ["0x10", "1e1", "+5", "%205", "5%20", "Infinity", "5.5"])
      await expectStatus("GET", `/api/v1/workflows?limit=${limit}`, 400);
    for (const limit of ["5", "200"]) expect((await call(api.url, "GET", `/api/v1/workflows?limit=${limit}`)).status, limit).toBe(200);
  });

  test("a uuid-shaped id whose version or variant is not a UUID's is malformed on both servers", async () => {
    // variant 0 (the 17th digit), then version 0, then a urn: prefix
    for (const id of [
      "0190a000-0000-7000-0000-000000000000",
      "0190a000-0000-0000-8000-000000000000",
      "urn:uuid:0190a000-0000-7000-8000-000000000000",
    ]) {
      await expectStatus("POST", "/api/v1/trigger", 422, { workflow_id: id });
      await expectStatus("GET", `/api/v1/runs?workflow_id=${id}`, 400);
      await expectStatus("GET", `/api/v1/runs?workflow_id=${id}&cursor=tampered`, 400);
      await expectStatus("GET", `/api/v1/workflows/${id}`, 404);
    }
  });
});
