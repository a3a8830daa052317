import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, expectTooLarge, startApi, type TestApi } from "../support/api.ts";

/**
 * The configurable limits, on a server configured below the defaults, answered identically by
 * both servers (API_TARGET). The OpenAPI document keeps publishing the ceilings.
 */
let api: TestApi;
beforeAll(async () => {
  api = await startApi({
    jsonMaxDepth: 8,
    workflowMaxSteps: 3,
    workflowMaxNameLength: 20,
    workflowMaxDescriptionLength: 30,
    workflowMaxStringLength: 50,
    triggerMaxInputBytes: 100,
  });
});
afterAll(() => api.stop());

const PROBLEM = "application/problem+json";
const step = (name: string, message = "hello") => ({ name, type: "log", config: { message } });
const workflow = (over: Record<string, unknown> = {}) => ({ name: "limits", steps: [step("a")], ...over });
const errorPaths = (body: { errors?: Array<{ path: string }> }) => (body.errors ?? []).map((e) => e.path);

describe("limits", () => {
  test("JSON nesting beyond JSON_MAX_DEPTH is a 400, however deep, and the server stays up", async () => {
    const nested = (d: number) => `${"[".repeat(d)}${"]".repeat(d)}`;
    const atLimit = await call(api.url, "POST", "/api/v1/workflows", nested(8));
    expect(atLimit.status).toBe(422);
    for (const body of [nested(9), `{"name":"x","steps":${nested(8)}}`, "[".repeat(1_000_000), nested(500_000)]) {
      const r = await call(api.url, "POST", "/api/v1/workflows", body);
      expect(r.status).toBe(400);
      expect(r.headers.get("content-type")).toStartWith(PROBLEM);
      expect(r.body).toMatchObject({ status: 400, title: "JSON Too Deep" });
    }
    // Brackets inside strings are text, not nesting.
    expect((await call(api.url, "POST", "/api/v1/workflows", workflow({ steps: [step("a", "[[[[[[[[[[{{{{")] }))).status).toBe(201);
    expect((await call(api.url, "GET", "/health")).status).toBe(200);
  });

  test("a body far over BODY_LIMIT_BYTES is a problem+json 413 too, declared or chunked", async () => {
    const big = `{"name":"${"x".repeat(5 * 1024 * 1024)}"}`;
    await expectTooLarge(api.url, "/api/v1/workflows", big, 64 * 1024);
  });

  test("more steps than WORKFLOW_MAX_STEPS is a 422 at /steps", async () => {
    const four = await call(api.url, "POST", "/api/v1/workflows", workflow({ steps: ["a", "b", "c", "d"].map((n) => step(n)) }));
    expect(four.status).toBe(422);
    expect(errorPaths(four.body)).toEqual(["/steps"]);
    expect(four.body.errors[0].message).toContain("1 to 3 steps");
    expect((await call(api.url, "POST", "/api/v1/workflows", workflow({ steps: ["a", "b", "c"].map((n) => step(n)) }))).status).toBe(201);
  });

  test("names, descriptions and config strings over their configured lengths are 422s at their paths", async () => {
    const r = await call(
      api.url,
      "POST",
      "/api/v1/workflows",
      workflow({ name: "n".repeat(21), description: "d".repeat(31), steps: [step("a", "m".repeat(51))] }),
    );
    expect(r.status).toBe(422);
    expect(errorPaths(r.body)).toEqual(["/name", "/description", "/steps/0/config/message"]);
    const replaced = await call(
      api.url,
      "POST",
      "/api/v1/workflows",
      workflow({ name: "n".repeat(20), description: "d".repeat(30), steps: [step("a", "m".repeat(50))] }),
    );
    expect(replaced.status).toBe(201);
    const put = await call(api.url, "PUT", `/api/v1/workflows/${replaced.body.id}`, workflow({ steps: [step("a", "m".repeat(51))] }));
    expect([put.status, errorPaths(put.body)]).toEqual([422, ["/steps/0/config/message"]]);
  });

  test("an input over TRIGGER_MAX_INPUT_BYTES is a 422 at /input", async () => {
    const wf = (await call(api.url, "POST", "/api/v1/workflows", workflow())).body;
    const input = (bytes: number) => ({ s: "x".repeat(bytes - 8) }); // {"s":"…"} is 8 bytes besides the string
    const over = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: wf.id, input: input(101) });
    expect(over.status).toBe(422);
    expect(over.body.errors).toEqual([{ path: "/input", message: "input is 101 bytes of JSON; at most 100 are accepted" }]);
    expect((await call(api.url, "POST", "/api/v1/trigger", { workflow_id: wf.id, input: input(100) })).status).toBe(202);
  });

  test("what PostgreSQL cannot store is a 422, never a 500", async () => {
    const wf = (await call(api.url, "POST", "/api/v1/workflows", workflow())).body;
    const cases: Array<[string, string, string[]]> = [
      [
        "/api/v1/workflows",
        '{"name":"a\\u0000b","steps":[{"name":"a","type":"log","config":{"message":"\\ud800"}}]}',
        ["/name", "/steps/0/config/message"],
      ],
      ["/api/v1/trigger", `{"workflow_id":"${wf.id}","input":{"\\u0000":1,"n":1e309}}`, ["/input", "/input/n"]],
      ["/api/v1/trigger", `{"workflow_id":"${wf.id}","idempotency_key":"k\\u0000"}`, ["/idempotency_key"]],
    ];
    for (const [path, body, paths] of cases) {
      const r = await call(api.url, "POST", path, body);
      expect([r.status, errorPaths(r.body)]).toEqual([422, paths]);
    }
  });

  test("a wrongly typed value that owns a toString key is a 422 (it was a 500 on Elysia)", async () => {
    const r = await call(api.url, "POST", "/api/v1/workflows", { name: { toString: "x" }, steps: [step("a")] });
    expect([r.status, errorPaths(r.body)]).toEqual([422, ["/name"]]);
    const wf = (await call(api.url, "POST", "/api/v1/workflows", workflow())).body;
    const t = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: wf.id, idempotency_key: { toString: "k" } });
    expect([t.status, errorPaths(t.body)]).toEqual([422, ["/idempotency_key"]]);
  });

  test("the OpenAPI document publishes the ceilings, whatever this server is configured to", async () => {
    const doc = (await call(api.url, "GET", "/swagger/json")).body;
    const input =
      doc.components.schemas["workflow.input"] ?? doc.paths["/api/v1/workflows"].post.requestBody.content["application/json"].schema;
    expect(input.properties.steps).toMatchObject({ minItems: 1, maxItems: 50 });
    expect(input.properties.steps.description).toContain("WORKFLOW_MAX_STEPS");
    expect(input.properties.name.maxLength).toBe(200);
  });
});
