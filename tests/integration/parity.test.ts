import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startApi, type TestApi } from "../support/api.ts";

/**
 * The same 200 requests, valid and invalid, to the Bun API and to the Node reference; the answers
 * must be the same but for ids, timestamps, pids and the runtime fields. Schema-violation messages
 * come from each server's JSON Schema validator (TypeBox, ajv), so for a body the paths are
 * compared, and for a bad query string the status and problem type.
 */
let bun: TestApi;
let node: TestApi;
beforeAll(async () => {
  [bun, node] = await Promise.all([startApi({}, "bun"), startApi({}, "node")]);
});
afterAll(async () => {
  await Promise.all([bun?.stop(), node?.stop()]);
});

/** The Bun API's own operations (CONTRACT.md, Version 2): the Node reference keeps the v1 API. */
const BUN_ONLY = [
  "GET /api/v1/workflows/{id}/versions",
  "GET /api/v1/workflows/{id}/versions/{version}",
  "POST /api/v1/runs/{id}/signals/{name}",
  "POST /api/v1/runs/{id}/replay",
  "POST /api/v1/runs/bulk/cancel",
  "POST /api/v1/runs/bulk/replay",
  "GET /api/v1/runs/{id}/events",
  "POST /api/v1/schedules",
  "GET /api/v1/schedules",
  "GET /api/v1/schedules/{id}",
  "PUT /api/v1/schedules/{id}",
  "DELETE /api/v1/schedules/{id}",
  "POST /api/v1/webhooks",
  "GET /api/v1/webhooks",
  "GET /api/v1/webhooks/{id}",
  "DELETE /api/v1/webhooks/{id}",
  "GET /api/v1/webhooks/{id}/deliveries",
  "PUT /api/v1/secrets/{name}",
  "GET /api/v1/secrets",
  "DELETE /api/v1/secrets/{name}",
];

interface Req {
  method: string;
  path: string;
  body?: unknown;
  raw?: string;
  type?: string;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g;

function normalize(v: unknown, key = ""): unknown {
  if (["pid", "runtime", "runtime_version"].includes(key)) return `<${key}>`;
  if (key === "next_cursor" && typeof v === "string") return "<cursor>";
  // Idempotency keys are per server (the two share one database, where a key is unique).
  if (typeof v === "string")
    return v
      .replace(UUID, "<uuid>")
      .replace(ISO, "<ts>")
      .replace(/\bk-[bn]\d+-/g, "k-<server>-");
  if (Array.isArray(v)) return v.map((x) => normalize(x));
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    // Schema errors: which fields, not each validator's wording.
    if (
      o.type === "https://workflow-service.dev/problems/validation" &&
      Array.isArray(o.errors) &&
      o.detail === "the request body does not match the schema"
    )
      return { ...o, errors: [...new Set((o.errors as Array<{ path: string }>).map((e) => e.path))].sort() };
    // A query value that fails Elysia's number decoding carries no path there; ajv names it.
    if (o.type === "https://workflow-service.dev/problems/bad-query") return { ...o, errors: "<query errors>" };
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, normalize(x, k)]));
  }
  return v;
}

const wf = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  steps: [
    {
      name: "fetch",
      type: "http",
      config: { method: "GET", url: "https://example.com/{{input.id}}" },
      retry: { max_attempts: 2, backoff_ms: 10 },
    },
    { name: "shape", type: "transform", config: { output: { id: "{{input.id}}", s: "{{steps.fetch.status}}" } } },
  ],
  ...extra,
});

/** The request list, built per server from the ids that server handed out ($wf, $run…). */
function requests(ids: Record<string, string>): Req[] {
  const r: Req[] = [];
  const push = (x: Req) => r.push(x);
  for (let i = 0; i < 5; i++) {
    push({ method: "GET", path: "/health" });
    push({ method: "GET", path: "/" });
    push({ method: "POST", path: "/api/v1/workflows", body: wf(`parity-${i}`, { description: i % 2 ? "d" : null }) });
    push({ method: "POST", path: "/api/v1/workflows", body: { steps: [] } });
    push({ method: "POST", path: "/api/v1/workflows", body: wf("x", { extra: true }) });
    push({ method: "POST", path: "/api/v1/workflows", body: { name: "x", steps: [{ name: "a", type: "shell", config: {} }] } });
    push({ method: "POST", path: "/api/v1/workflows", body: { name: "x", steps: [{ name: "a", type: "delay", config: { ms: -1 } }] } });
    push({
      method: "POST",
      path: "/api/v1/workflows",
      body: {
        name: "x",
        steps: [
          { name: "a", type: "log", config: { message: "{{steps.b.x}}" } },
          { name: "b", type: "delay", config: { ms: 1 } },
        ],
      },
    });
    push({ method: "POST", path: "/api/v1/workflows", body: { name: 42, steps: "no" } });
    push({
      method: "POST",
      path: "/api/v1/workflows",
      body: { name: "x", steps: Array.from({ length: 51 }, (_, k) => ({ name: `s${k}`, type: "delay", config: { ms: 1 } })) },
    });
    push({ method: "POST", path: "/api/v1/workflows", raw: "{bad json" });
    push({ method: "POST", path: "/api/v1/workflows", raw: JSON.stringify(wf("t")), type: "text/plain" });
    push({ method: "POST", path: "/api/v1/workflows", raw: JSON.stringify(wf("big", { description: "x".repeat(1_100_000) })) });
    push({ method: "GET", path: `/api/v1/workflows/${ids.wf}` });
    push({ method: "GET", path: "/api/v1/workflows/0190a000-0000-7000-8000-000000000000" });
    push({ method: "GET", path: "/api/v1/workflows/not-an-id" });
    push({ method: "PUT", path: `/api/v1/workflows/${ids.wf2}`, body: wf(`renamed-${i}`) });
    push({ method: "PUT", path: `/api/v1/workflows/${ids.wf2}`, body: { name: "x", steps: [] } });
    push({ method: "GET", path: `/api/v1/workflows?limit=${i + 1}` });
    push({ method: "GET", path: "/api/v1/workflows?limit=0" });
    push({ method: "GET", path: "/api/v1/workflows?limit=abc" });
    push({ method: "GET", path: "/api/v1/workflows?cursor=garbage" });
    push({ method: "POST", path: "/api/v1/trigger", body: { workflow_id: ids.wf, input: { id: i } } });
    push({ method: "POST", path: "/api/v1/trigger", body: { workflow_id: ids.wf, idempotency_key: `k-${ids.tag}-${i}` } });
    push({ method: "POST", path: "/api/v1/trigger", body: { workflow_id: ids.wf, idempotency_key: `k-${ids.tag}-${i}` } });
    push({ method: "POST", path: "/api/v1/trigger", body: { workflow_id: ids.wf2, idempotency_key: `k-${ids.tag}-${i}` } });
    push({ method: "POST", path: "/api/v1/trigger", body: { workflow_id: "0190a000-0000-7000-8000-000000000000" } });
    push({ method: "POST", path: "/api/v1/trigger", body: { workflow_id: "nope" } });
    push({ method: "POST", path: "/api/v1/trigger", body: { workflow_id: ids.wf, input: [1, 2] } });
    push({ method: "POST", path: "/api/v1/trigger", body: { workflow_id: ids.wf, surprise: 1 } });
    push({ method: "GET", path: `/api/v1/runs/${ids.run}` });
    push({ method: "GET", path: "/api/v1/runs/0190a000-0000-7000-8000-000000000000" });
    push({ method: "GET", path: `/api/v1/runs?workflow_id=${ids.wf}&status=cancelled&limit=2` });
    push({ method: "GET", path: "/api/v1/runs?status=finished" });
    push({ method: "GET", path: "/api/v1/runs?workflow_id=xyz" });
    push({ method: "POST", path: `/api/v1/runs/${ids[`run${i}`]}/cancel` });
    push({ method: "POST", path: `/api/v1/runs/${ids[`run${i}`]}/cancel` });
    push({ method: "POST", path: "/api/v1/runs/nope/cancel" });
    push({ method: "DELETE", path: `/api/v1/workflows/${ids[`del${i}`]}` });
    push({ method: "DELETE", path: `/api/v1/workflows/${ids[`del${i}`]}` });
    push({ method: "GET", path: "/nope" });
    push({ method: "PATCH", path: "/api/v1/workflows" });
  }
  return r.slice(0, 200);
}

async function fixture(api: TestApi, tag: string): Promise<Record<string, string>> {
  const post = async (path: string, body: unknown) =>
    (await (
      await fetch(`${api.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
    ).json()) as Record<string, string>;
  const ids: Record<string, string> = {
    tag,
    wf: (await post("/api/v1/workflows", wf("fixture"))).id!,
    wf2: (await post("/api/v1/workflows", wf("fixture-2"))).id!,
  };
  ids.run = (await post("/api/v1/trigger", { workflow_id: ids.wf })).run_id!;
  for (let i = 0; i < 5; i++) {
    ids[`run${i}`] = (await post("/api/v1/trigger", { workflow_id: ids.wf })).run_id!;
    ids[`del${i}`] = (await post("/api/v1/workflows", wf(`doomed-${i}`))).id!;
  }
  return ids;
}

async function send(api: TestApi, q: Req) {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (q.body !== undefined || q.raw !== undefined) {
    body = q.raw ?? JSON.stringify(q.body);
    headers["content-type"] = q.type ?? "application/json";
  }
  const res = await fetch(`${api.url}${q.path}`, { method: q.method, headers, body });
  const text = await res.text();
  const type = (res.headers.get("content-type") ?? "").split(";")[0]!;
  return {
    status: res.status,
    type,
    replayed: res.headers.get("idempotent-replayed"),
    request_id: res.headers.has("x-request-id"),
    body: normalize(type.includes("json") && text ? JSON.parse(text) : ""),
  };
}

describe("parity: Bun API and Node reference", () => {
  test("200 mixed requests get the same answers", async () => {
    const tag = `${Date.now()}`;
    const [bIds, nIds] = await Promise.all([fixture(bun, `b${tag}`), fixture(node, `n${tag}`)]);
    const [bReqs, nReqs] = [requests(bIds), requests(nIds)];
    expect(bReqs.length).toBe(200);
    const diffs: string[] = [];
    for (let i = 0; i < bReqs.length; i++) {
      const [b, n] = [await send(bun, bReqs[i]!), await send(node, nReqs[i]!)];
      if (!Bun.deepEquals(b, n))
        diffs.push(
          `#${i} ${bReqs[i]!.method} ${bReqs[i]!.path.replace(UUID, "<uuid>")}\n  bun:  ${JSON.stringify(b)}\n  node: ${JSON.stringify(n)}`,
        );
    }
    expect(diffs).toEqual([]);
  });

  test("the Node reference publishes the Bun API's document, less the Bun-only operations", async () => {
    type Operation = { operationId?: string; responses?: Record<string, { links?: Record<string, { operationId?: string }> }> };
    type Doc = { paths: Record<string, Record<string, Operation>>; components: unknown };
    const operationOf = (doc: Doc, op: string): Operation => {
      const [method, path] = op.split(" ") as [string, string];
      return doc.paths[path]![method.toLowerCase()]!;
    };
    const [b, n] = (await Promise.all([bun, node].map(async (api) => (await fetch(`${api.url}/swagger/json`)).json()))) as [Doc, Doc];
    const ops = (doc: Doc) =>
      Object.entries(doc.paths).flatMap(([path, m]) => Object.keys(m).map((method) => `${method.toUpperCase()} ${path}`));
    for (const op of BUN_ONLY) expect(ops(b)).toContain(op);
    expect(ops(n).sort()).toEqual(
      ops(b)
        .filter((op) => !BUN_ONLY.includes(op))
        .sort(),
    );
    // What both serve, both document alike, but for the links to Bun-only operations.
    const bunOnlyIds = new Set(BUN_ONLY.map((op) => operationOf(b, op).operationId));
    const withoutBunOnlyLinks = (o: Operation): Operation => ({
      ...o,
      responses: Object.fromEntries(
        Object.entries(o.responses ?? {}).map(([status, { links, ...res }]) => {
          const kept = Object.entries(links ?? {}).filter(([, l]) => !bunOnlyIds.has(l.operationId));
          return [status, kept.length > 0 ? { ...res, links: Object.fromEntries(kept) } : res];
        }),
      ),
    });
    for (const op of ops(n)) expect({ op, doc: operationOf(n, op) }).toEqual({ op, doc: withoutBunOnlyLinks(operationOf(b, op)) });
    expect(n.components).toEqual(b.components);
  });
});
