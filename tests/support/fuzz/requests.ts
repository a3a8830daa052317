import { mutate } from "./mutate.ts";
import type { Rng } from "./prng.ts";
import { hostileString, INJECTIONS, randomString, randomValue, rawBody, serialise } from "./values.ts";

/** What the fuzzer has seen so far: real ids and cursors, to aim near-misses at real rows. */
export interface FuzzState {
  tag: string;
  workflowIds: string[];
  runIds: string[];
  cursors: string[];
}

export interface FuzzRequest {
  /** The endpoint and kind of abuse, for the summary. */
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

const CONTENT_TYPES = [
  "application/json; charset=utf-8",
  "application/merge-patch+json",
  "APPLICATION/JSON",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "application/jsonp",
  "application/json; charset=latin1",
  "json",
  "*/*",
  "",
];

export const validWorkflow = (tag: string, rng: Rng) => ({
  name: `${tag}-${rng.int(0, 1e9)}`,
  description: rng.chance(0.5) ? "fuzz" : null,
  steps: [
    {
      name: "fetch",
      type: "http",
      config: {
        method: "POST",
        url: "http://example.test/o/{{input.id}}",
        headers: { "x-a": "b" },
        body: { id: "{{input.id}}" },
        timeout_ms: 1000,
      },
      retry: { max_attempts: 2, backoff_ms: 10 },
    },
    { name: "pause", type: "delay", config: { ms: 1 } },
    {
      name: "shape",
      type: "transform",
      config: { output: { id: "{{input.id}}", s: "{{steps.fetch.status}}", list: [1, "two", { three: 3 }] } },
    },
    { name: "note", type: "log", config: { message: "done {{input.id}}", level: "info" } },
  ],
});

/**
 * Path and query text, kept under 8 KB: a request line beyond the HTTP server's header limit
 * (16 KiB on Bun and Node) is refused with a bare 431 before the application sees it.
 */
const forUrl = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, "")).slice(0, 6000);

const uuid4 = (rng: Rng) => {
  const h = () => rng.int(0, 15).toString(16);
  const part = (n: number) => Array.from({ length: n }, h).join("");
  return `${part(8)}-${part(4)}-4${part(3)}-${rng.pick(["8", "9", "a", "b"])}${part(3)}-${part(12)}`;
};

/** An id segment for a path: real, unknown, or garbage (encoded, or raw percent junk). */
function idSegment(rng: Rng, known: string[]): string {
  const r = rng.next();
  if (r < 0.35 && known.length > 0) return rng.pick(known);
  if (r < 0.5) return uuid4(rng);
  if (r < 0.55)
    return rng.pick([
      "00000000-0000-0000-0000-000000000000",
      "ffffffff-ffff-ffff-ffff-ffffffffffff",
      "00000000-0000-7000-8000-000000000000",
    ]);
  if (r < 0.65)
    return rng.pick(["%", "%ZZ", "%00", "%C0%AF", "%ED%A0%80", "%FF%FE", "..%2F..%2F", "%2e%2e", "a%20b", "%u0041", "%E2%80%AE"]);
  if (r < 0.7) return "a".repeat(rng.pick([37, 1000, 8000]));
  if (r < 0.75 && known.length > 0) return `${rng.pick(known)}${rng.pick(["x", "%00", "'", " ", "/"])}`.replace(" ", "%20");
  return forUrl(hostileString(rng)) || "x";
}

const LIMITS = [
  "",
  "0",
  "-1",
  "1",
  "50",
  "200",
  "201",
  "1.5",
  "5.0",
  "1e2",
  "0x10",
  " 5",
  "5 ",
  "abc",
  "NaN",
  "Infinity",
  "-Infinity",
  "99999999999999999999",
  "1e309",
  "-0",
  "+5",
  "%00",
  "1%00",
  "٣",
  "null",
  "[]",
  "true",
];

function query(rng: Rng, state: FuzzState, runs: boolean): string {
  const parts: string[] = [];
  const add = (k: string, v: string) => parts.push(`${k}=${v}`);
  if (rng.chance(0.6)) add("limit", encodeURIComponent(rng.pick(LIMITS)));
  if (rng.chance(0.1)) add("limit", rng.pick(["1", "2", "300"]));
  if (rng.chance(0.5)) {
    const c = rng.next();
    if (c < 0.3 && state.cursors.length > 0) add("cursor", rng.pick(state.cursors));
    else if (c < 0.5 && state.cursors.length > 0) {
      const real = rng.pick(state.cursors);
      const i = rng.int(0, real.length - 1);
      add("cursor", `${real.slice(0, i)}${real[i] === "A" ? "B" : "A"}${real.slice(i + 1)}`);
    } else if (c < 0.7) add("cursor", Array.from({ length: rng.pick([53, 54, 55]) }, () => rng.pick([..."ABCXYZabcxyz0189-_"])).join(""));
    else if (c < 0.8) add("cursor", "A".repeat(rng.pick([199, 200, 201, 5000])));
    else add("cursor", forUrl(hostileString(rng)));
  }
  if (runs && rng.chance(0.4))
    add(
      "status",
      encodeURIComponent(
        rng.pick(["pending", "running", "completed", "failed", "cancelled", "done", "", "PENDING", "pending'--", "\u0000"]),
      ),
    );
  if (runs && rng.chance(0.4))
    add(
      "workflow_id",
      rng.chance(0.5) && state.workflowIds.length > 0
        ? rng.pick(state.workflowIds)
        : encodeURIComponent(rng.pick([uuid4(rng), "xyz", "", ...INJECTIONS.slice(0, 3)])),
    );
  if (rng.chance(0.1)) add(encodeURIComponent(rng.pick(["__proto__", "constructor", "x", "limit[]", "a[b]"])), "1");
  if (rng.chance(0.05)) parts.push(rng.pick(["%", "%ZZ=1", "=", "&&", "limit", "limit=%ZZ"]));
  return parts.length > 0 ? `?${parts.join("&")}` : rng.chance(0.1) ? "?" : "";
}

/** A body for a route that takes JSON: valid, mutated, random, or not JSON at all. */
function body(rng: Rng, valid: unknown): { body?: string | Uint8Array; type?: string; kind: string } {
  const text = serialise(valid);
  const r = rng.next();
  if (r < 0.15) return { body: text, kind: "valid" };
  if (r < 0.65) return { body: serialise(mutate(rng, valid)), kind: "mutated" };
  if (r < 0.73) return { body: serialise(randomValue(rng)), kind: "random" };
  if (r < 0.9) return { body: rawBody(rng, text), kind: "raw" };
  if (r < 0.93) return { kind: "empty" };
  if (r < 0.95) return { body: "", kind: "empty-string" };
  if (r < 0.96) return { body: `{"name":"${"x".repeat(1_100_000)}"}`, kind: "oversized" };
  return { body: text, type: rng.pick(CONTENT_TYPES), kind: "content-type" };
}

function withBody(label: string, method: string, path: string, rng: Rng, valid: unknown): FuzzRequest {
  const b = body(rng, valid);
  const headers: Record<string, string> = {};
  // fetch sends no content-type for bytes, so raw byte bodies also test a missing header.
  if (b.body !== undefined && typeof b.body === "string")
    headers["content-type"] = b.type ?? (rng.chance(0.9) ? "application/json" : rng.pick(CONTENT_TYPES));
  if (b.type !== undefined && b.body !== undefined) headers["content-type"] = b.type;
  if (headers["content-type"] === "") delete headers["content-type"];
  return { label: `${label} ${b.kind}`, method, path, headers, body: b.body };
}

function validTrigger(rng: Rng, state: FuzzState): Record<string, unknown> {
  const t: Record<string, unknown> = { workflow_id: state.workflowIds.length > 0 ? rng.pick(state.workflowIds) : uuid4(rng) };
  if (rng.chance(0.8)) t.input = { id: rng.int(1, 1e6), note: rng.pick(["x", "名前", "'; --"]) };
  if (rng.chance(0.3)) t.idempotency_key = `${state.tag}-${rng.int(0, 200)}`;
  return t;
}

type Make = (rng: Rng, s: FuzzState) => FuzzRequest;
const plain = (label: string, method: string, path: string): FuzzRequest => ({ label, method, path, headers: {} });

/** Every endpoint of the contract, with weights: the write paths get most of the traffic. */
const ENDPOINTS: Array<[number, Make]> = [
  [1, () => plain("GET /health", "GET", "/health")],
  [1, () => plain("GET /health/ready", "GET", "/health/ready")],
  [1, () => plain("GET /", "GET", "/")],
  [0.3, () => plain("GET /metrics", "GET", "/metrics")],
  [
    0.3,
    (r) =>
      plain(
        "GET /swagger",
        "GET",
        r.pick(["/swagger", "/swagger/json", "/swagger/assets/swagger-ui.css", "/swagger/assets/..%2Fpackage.json", "/swagger/assets/%00"]),
      ),
  ],
  [22, (r, s) => withBody("POST /api/v1/workflows", "POST", "/api/v1/workflows", r, validWorkflow(s.tag, r))],
  [8, (r, s) => plain("GET /api/v1/workflows", "GET", `/api/v1/workflows${query(r, s, false)}`)],
  [6, (r, s) => plain("GET /api/v1/workflows/{id}", "GET", `/api/v1/workflows/${idSegment(r, s.workflowIds)}`)],
  [
    12,
    (r, s) => withBody("PUT /api/v1/workflows/{id}", "PUT", `/api/v1/workflows/${idSegment(r, s.workflowIds)}`, r, validWorkflow(s.tag, r)),
  ],
  [3, (r, s) => plain("DELETE /api/v1/workflows/{id}", "DELETE", `/api/v1/workflows/${idSegment(r, s.workflowIds)}`)],
  [20, (r, s) => withBody("POST /api/v1/trigger", "POST", "/api/v1/trigger", r, validTrigger(r, s))],
  [6, (r, s) => plain("GET /api/v1/runs/{id}", "GET", `/api/v1/runs/${idSegment(r, s.runIds)}`)],
  [8, (r, s) => plain("GET /api/v1/runs", "GET", `/api/v1/runs${query(r, s, true)}`)],
  [5, (r, s) => plain("POST /api/v1/runs/{id}/cancel", "POST", `/api/v1/runs/${idSegment(r, s.runIds)}/cancel`)],
  [
    2,
    (r, s) =>
      withBody(
        "other",
        r.pick(["PATCH", "OPTIONS", "POST", "DELETE", "PUT"]),
        r.pick([
          "/api/v1/workflows",
          "/api/v1/runs",
          "/",
          "/health",
          `/api/v1/runs/${idSegment(r, s.runIds)}/cancel`,
          "/api/v1/trigger/x",
          "/api/v2/workflows",
          `/${forUrl(randomString(r, 20))}`,
        ]),
        r,
        { a: 1 },
      ),
  ],
];
const TOTAL = ENDPOINTS.reduce((s, [w]) => s + w, 0);

export function nextRequest(rng: Rng, state: FuzzState): FuzzRequest {
  let x = rng.next() * TOTAL;
  for (const [w, make] of ENDPOINTS) {
    x -= w;
    if (x < 0) return make(rng, state);
  }
  return ENDPOINTS[0]![1](rng, state);
}
