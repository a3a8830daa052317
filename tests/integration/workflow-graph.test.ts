import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { call, startApi, type TestApi, unique } from "../support/api.ts";

/** Version 2 definitions (a graph of steps) on the Bun API: accepted as sent, refused with a path per problem. */
let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.stop());

type Step = Record<string, unknown>;
const delay = (name: string, extra: Step = {}): Step => ({ name, type: "delay", config: { ms: 1 }, ...extra });
const log = (name: string, message: string, extra: Step = {}): Step => ({ name, type: "log", config: { message }, ...extra });
const create = (steps: Step[]) => call(api.url, "POST", "/api/v1/workflows", { name: unique("graph"), steps });
const errorsOf = (body: { errors?: Array<{ path: string; message: string }> }) => body.errors ?? [];

async function expectInvalid(steps: Step[], path: string, message?: string | RegExp) {
  const r = await create(steps);
  expect({ status: r.status, type: r.headers.get("content-type")?.split(";")[0] }).toEqual({
    status: 422,
    type: "application/problem+json",
  });
  const at = errorsOf(r.body).filter((e) => e.path === path);
  expect({ path, errors: errorsOf(r.body).map((e) => e.path) }).toEqual({ path, errors: expect.arrayContaining([path]) });
  if (message instanceof RegExp) expect(at.map((e) => e.message).join("\n")).toMatch(message);
  else if (message !== undefined) expect(at.map((e) => e.message)).toContain(message);
}

describe("Version 2 definitions", () => {
  test("a graph of every step type is accepted, stored and returned as sent, and replaced", async () => {
    const child = await create([log("only", "child {{input.x}}")]);
    expect(child.status).toBe(201);
    const steps: Step[] = [
      { name: "fetch", type: "http", config: { method: "GET", url: "https://example.test/{{input.id}}" }, needs: [] },
      delay("pause", { needs: [], on_error: "continue" }),
      {
        name: "each",
        type: "transform",
        config: { output: { id: "{{item.id}}", at: "{{index}}", status: "{{steps.fetch.status}}" } },
        needs: ["fetch", "pause"],
        for_each: "input.orders",
        concurrency: 5,
        if: "input.go == true",
      },
      { name: "sub", type: "workflow", config: { workflow_id: child.body.id, input: { orders: "{{steps.each}}" } } },
      { name: "approve", type: "wait_for_signal", config: { signal: "approval", timeout_ms: 86_400_000 }, needs: ["sub"] },
      { name: "wait", type: "delay", config: { ms: 2_592_000_000 }, retry: { max_attempts: 2, backoff_ms: 10 } },
      log("note", "{{steps.approve.by}} after {{steps.fetch.status}}", { needs: ["wait"] }),
    ];
    const created = await create(steps);
    expect(created.status).toBe(201);
    expect(created.body.steps).toEqual(steps);
    const got = await call(api.url, "GET", `/api/v1/workflows/${created.body.id}`);
    expect(got.body.steps).toEqual(steps);

    const replaced = await call(api.url, "PUT", `/api/v1/workflows/${created.body.id}`, {
      name: "replaced",
      steps: [...steps.slice(0, 2), { ...delay("self"), type: "workflow", config: { workflow_id: created.body.id } }],
    });
    expect([replaced.status, replaced.body.version, replaced.body.steps[2].config]).toEqual([200, 2, { workflow_id: created.body.id }]);
  });

  test("v1 definitions stay valid, with their list order", async () => {
    const r = await create([delay("a"), log("b", "{{steps.a.x}}"), log("c", "{{steps.a.x}} {{steps.b.x}}")]);
    expect(r.status).toBe(201);
    expect(r.body.steps.every((s: Step) => !("needs" in s))).toBe(true);
  });
});

describe("Version 2 errors: a 422 with the path of each problem", () => {
  test("needs: a later, unknown, repeated or own step, or not a list", async () => {
    await expectInvalid([delay("a", { needs: ["b"] }), delay("b")], "/steps/0/needs/0", /"b", which comes after this step/);
    await expectInvalid([delay("a"), delay("b", { needs: ["a", "zz"] })], "/steps/1/needs/1", /"zz", which is not a step/);
    await expectInvalid([delay("a"), delay("b", { needs: ["a", "a"] })], "/steps/1/needs/1", /named twice/);
    await expectInvalid([delay("a"), delay("b", { needs: ["b"] })], "/steps/1/needs/0", 'a step cannot need itself ("b")');
    await expectInvalid([delay("a", { needs: "b" })], "/steps/0/needs");
    await expectInvalid([delay("a", { needs: Array.from({ length: 51 }, (_, i) => `s${i}`) })], "/steps/0/needs");
  });

  test("placeholders: a step that is earlier but not needed, item and index outside for_each", async () => {
    await expectInvalid(
      [delay("a"), delay("b", { needs: [] }), log("c", "{{steps.a.x}}", { needs: ["b"] })],
      "/steps/2/config/message",
      /"a", which this step does not need/,
    );
    await expectInvalid([log("a", "{{steps.b.x}}"), delay("b")], "/steps/0/config/message", /does not run before this one/);
    await expectInvalid([log("a", "{{item.id}}")], "/steps/0/config/message", /has no for_each/);
    await expectInvalid([log("a", "n={{index}}")], "/steps/0/config/message", /has no for_each/);
  });

  test("if, for_each, concurrency, on_error, unknown fields", async () => {
    await expectInvalid([delay("a", { if: "" })], "/steps/0/if");
    await expectInvalid([delay("a", { for_each: 3 })], "/steps/0/for_each");
    await expectInvalid([delay("a", { for_each: "x".repeat(4097) })], "/steps/0/for_each");
    await expectInvalid([delay("a", { concurrency: 3 })], "/steps/0/concurrency", /has no for_each/);
    await expectInvalid([delay("a", { for_each: "input.items", concurrency: 1001 })], "/steps/0/concurrency");
    await expectInvalid([delay("a", { for_each: "input.items", concurrency: 0 })], "/steps/0/concurrency");
    await expectInvalid([delay("a", { on_error: "ignore" })], "/steps/0/on_error");
    await expectInvalid([delay("a", { when: "now" })], "/steps/0/when", 'unknown step field "when"');
    await expectInvalid([delay("a", { retry: { max_attempts: 1, backoff_ms: 0, jitter: 1 } })], "/steps/0/retry/jitter");
  });

  // Needs the real CEL compiler behind compileExpression (the stub compiles everything).
  test("a malformed CEL expression is a 422 at its field", async () => {
    await expectInvalid([delay("a", { if: "input.a ==" })], "/steps/0/if");
    await expectInvalid([delay("a", { for_each: "input.items[" })], "/steps/0/for_each");
  });

  test("configs of each type, checked field by field whatever the union says", async () => {
    await expectInvalid([{ name: "a", type: "log", config: {} }], "/steps/0/config/message", "message must be a string");
    await expectInvalid([{ name: "a", type: "delay", config: { ms: 2_592_000_001 } }], "/steps/0/config/ms", /30 days/);
    await expectInvalid([{ name: "a", type: "workflow", config: { workflow_id: "{{input.id}}" } }], "/steps/0/config/workflow_id");
    await expectInvalid([{ name: "a", type: "workflow", config: { workflow_id: crypto.randomUUID(), extra: 1 } }], "/steps/0/config/extra");
    await expectInvalid([{ name: "a", type: "wait_for_signal", config: { signal: "no spaces" } }], "/steps/0/config/signal");
    await expectInvalid([{ name: "a", type: "wait_for_signal", config: { signal: "ok", timeout_ms: 0 } }], "/steps/0/config/timeout_ms");
    await expectInvalid([{ name: "a", type: "wait_for_signal", config: {} }], "/steps/0/config/signal");
    // A replace is answered alike.
    const wf = (await create([delay("a")])).body.id as string;
    const put = await call(api.url, "PUT", `/api/v1/workflows/${wf}`, { name: "p", steps: [{ name: "a", type: "log", config: {} }] });
    expect([put.status, errorsOf(put.body)]).toEqual([422, [{ path: "/steps/0/config/message", message: "message must be a string" }]]);
  });

  test("a workflow step naming no existing workflow is a 422 at its workflow_id, on create and replace", async () => {
    const known = (await create([delay("a")])).body.id as string;
    const [x, y] = [crypto.randomUUID(), crypto.randomUUID()];
    const wf = (name: string, id: string): Step => ({ name, type: "workflow", config: { workflow_id: id } });
    const r = await create([wf("a", x), wf("b", known), wf("c", y), wf("d", x.toUpperCase())]);
    expect(r.status).toBe(422);
    expect(errorsOf(r.body)).toEqual([
      { path: "/steps/0/config/workflow_id", message: `no workflow ${x}` },
      { path: "/steps/2/config/workflow_id", message: `no workflow ${y}` },
      { path: "/steps/3/config/workflow_id", message: `no workflow ${x}` },
    ]);
    const put = await call(api.url, "PUT", `/api/v1/workflows/${known}`, { name: "p", steps: [wf("a", y)] });
    expect([put.status, errorsOf(put.body)]).toEqual([422, [{ path: "/steps/0/config/workflow_id", message: `no workflow ${y}` }]]);
    // A deleted workflow is no longer there to be started.
    expect((await call(api.url, "DELETE", `/api/v1/workflows/${known}`)).status).toBe(204);
    expect((await create([wf("a", known)])).status).toBe(422);
  });
});

describe("the OpenAPI document", () => {
  test("a step is a oneOf discriminated by type, one component per type, each config closed", async () => {
    const doc = (await call(api.url, "GET", "/swagger/json")).body;
    const body = doc.paths["/api/v1/workflows"].post.requestBody.content["application/json"].schema;
    const types = ["http", "delay", "transform", "log", "workflow", "wait_for_signal"];
    expect(body.properties.steps.items).toEqual({
      discriminator: { propertyName: "type", mapping: Object.fromEntries(types.map((t) => [t, `#/components/schemas/step.${t}`])) },
      oneOf: types.map((t) => ({ $ref: `#/components/schemas/step.${t}` })),
    });
    expect(doc.components.schemas.workflow.properties.steps.items).toEqual(body.properties.steps.items);
    for (const t of types) {
      const variant = doc.components.schemas[`step.${t}`];
      expect({ t, type: variant.properties.type.const, required: variant.required }).toEqual({
        t,
        type: t,
        required: ["name", "type", "config"],
      });
      expect({ t, step: variant.additionalProperties, config: variant.properties.config.additionalProperties }).toEqual({
        t,
        step: false,
        config: false,
      });
      expect(Object.keys(variant.properties)).toEqual([
        "name",
        "type",
        "config",
        "retry",
        "needs",
        "if",
        "for_each",
        "concurrency",
        "on_error",
      ]);
    }
    expect(doc.components.schemas["step.log"].properties.config.required).toEqual(["message"]);
    expect(doc.components.schemas["step.workflow"].properties.config.required).toEqual(["workflow_id"]);
    expect(doc.components.schemas["step.wait_for_signal"].properties.config.required).toEqual(["signal"]);
  });

  test("by the document, a log step with config {} is invalid, and a v2 graph valid", async () => {
    const doc = (await call(api.url, "GET", "/swagger/json")).body;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(
      JSON.parse(JSON.stringify(doc), (k, v) => (k === "$id" ? undefined : v)),
      "openapi",
    );
    const validate = ajv.getSchema("openapi#/paths/~1api~1v1~1workflows/post/requestBody/content/application~1json/schema")!;
    expect(validate({ name: "x", steps: [{ name: "a", type: "log", config: {} }] })).toBe(false);
    expect(validate({ name: "x", steps: [{ name: "a", type: "log", config: { message: "m" }, for_each: "[1]", concurrency: 2 }] })).toBe(
      true,
    );
    expect(validate({ name: "x", steps: [{ name: "a", type: "log", config: { message: "m" }, concurrency: 2 }] })).toBe(false);
    expect(validate({ name: "x", steps: [{ name: "a", type: "log", config: { message: "m", ms: 1 } }] })).toBe(false);
    expect(validate({ name: "x", steps: [{ name: "a", type: "delay", config: { ms: 2_592_000_000 }, needs: [] }] })).toBe(true);
    expect(validate({ name: "x", steps: [{ name: "a", type: "workflow", config: { workflow_id: "nope" } }] })).toBe(false);
  });
});
