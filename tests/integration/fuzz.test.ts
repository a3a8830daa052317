import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { definitionLimits } from "@wf/platform/config";
import { call, startApi, type TestApi, unique } from "../support/api.ts";
import { auditRows, type FuzzLedger } from "../support/fuzz/audit.ts";
import { createRng, fuzzRequests, fuzzSeed } from "../support/fuzz/prng.ts";
import { type FuzzRequest, type FuzzState, nextRequest, validWorkflow } from "../support/fuzz/requests.ts";
import { checkResponse } from "../support/openapi-check.ts";

/**
 * Random and mutated requests over every endpoint of the contract, against either server
 * (API_TARGET). Reproduce a run with FUZZ_SEED=<seed printed below>; FUZZ_REQUESTS sets the count.
 * Nothing may be a 5xx, every error must be problem+json (and every JSON answer must match the
 * published OpenAPI document), the server must stay up with bounded memory, and the database
 * must hold only rows the domain accepts.
 */
const SEED = fuzzSeed();
const REQUESTS = fuzzRequests();
const CONCURRENCY = 32;
const REQUEST_TIMEOUT_MS = 20_000;
const RSS_GROWTH_LIMIT = 300 * 1024 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

let api: TestApi;
beforeAll(async () => {
  // Lower limits than the defaults, so the configured values (not the schema's ceilings) are
  // what the fuzzer runs into.
  api = await startApi({ workflowMaxSteps: 20, workflowMaxStringLength: 4096, triggerMaxInputBytes: 16 * 1024, jsonMaxDepth: 24 });
});
afterAll(() => api.stop());

const rssOf = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) * 1024;
};

const preview = (b: FuzzRequest["body"]) =>
  b === undefined
    ? "(none)"
    : typeof b === "string"
      ? `${JSON.stringify(b.slice(0, 300))} (${b.length} chars)`
      : `bytes ${Buffer.from(b.subarray(0, 64)).toString("hex")} (${b.length})`;

interface Outcome {
  status: number;
  failure?: string;
  /** A 503: the contract's answer while a dependency is down, excused only if one really was. */
  outage?: boolean;
}

/** When PostgreSQL last started: other suites on this machine stop and start it (infra/stack). */
const postgresStarted = async (): Promise<number> =>
  (await api.services.sql<{ t: Date }[]>`SELECT pg_postmaster_start_time() AS t WHERE ${1}::int = 1`)[0]!.t.getTime();

async function send(req: FuzzRequest, state: FuzzState, ledger: FuzzLedger): Promise<Outcome> {
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(`${api.url}${req.path}`, {
      method: req.method,
      headers: req.headers,
      body: req.body as BodyInit | undefined,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    return { status: 0, failure: `no answer after ${Math.round(performance.now() - started)} ms: ${(err as Error).message}` };
  }
  const text = await res.text();
  const type = res.headers.get("content-type") ?? "";
  const s = res.status;
  if (s >= 500) return { status: s, failure: `${s}: ${text.slice(0, 300)}`, outage: s === 503 };
  let parsed: unknown;
  if (type.includes("json")) {
    try {
      parsed = JSON.parse(text);
    } catch {
      return { status: s, failure: `${s} with content-type ${type} that is not JSON: ${text.slice(0, 200)}` };
    }
  }
  if (s >= 400) {
    const p = parsed as { status?: unknown; title?: unknown; type?: unknown; detail?: unknown } | undefined;
    if (!type.startsWith("application/problem+json"))
      return { status: s, failure: `${s} with content-type ${JSON.stringify(type)}: ${text.slice(0, 200)}` };
    if (!p || p.status !== s || typeof p.title !== "string" || typeof p.type !== "string" || typeof p.detail !== "string")
      return { status: s, failure: `${s} problem is malformed: ${text.slice(0, 200)}` };
  }
  if (parsed !== undefined && req.method !== "OPTIONS") {
    const mismatch = await checkResponse(api.url, req.method, req.path, s, parsed);
    if (mismatch) return { status: s, failure: `answer does not match the OpenAPI document: ${mismatch.slice(0, 300)}` };
  }
  learn(req, s, parsed, state, ledger);
  return { status: s };
}

/** Feeds real ids and cursors back into the generator, and records what should be stored. */
function learn(req: FuzzRequest, status: number, body: unknown, state: FuzzState, ledger: FuzzLedger) {
  const b = body as { id?: string; run_id?: string; next_cursor?: string | null } | undefined;
  if (req.path === "/api/v1/workflows" && req.method === "POST" && status === 201 && b?.id) {
    ledger.created.add(b.id);
    state.workflowIds.push(b.id);
  }
  if (req.method === "DELETE" && status === 204) {
    const id = /^\/api\/v1\/workflows\/([0-9a-f-]{36})/i.exec(req.path)?.[1];
    if (id) ledger.deleted.add(id.toLowerCase());
  }
  if (req.path === "/api/v1/trigger" && status === 202 && b?.run_id) {
    ledger.runs.add(b.run_id);
    if (state.runIds.length < 500) state.runIds.push(b.run_id);
  }
  if (b?.next_cursor && state.cursors.length < 50) state.cursors.push(b.next_cursor);
}

/** Every workflow_id a trigger body named, parsed or not: runs for unknown ids must not exist. */
function noteTriggerTarget(req: FuzzRequest, ledger: FuzzLedger) {
  if (req.path !== "/api/v1/trigger" || typeof req.body !== "string") return;
  for (const m of req.body.matchAll(/"workflow_id"\s*:\s*"([0-9a-fA-F-]{36})"/g))
    if (UUID.test(m[1]!)) ledger.triggeredFor.add(m[1]!.toLowerCase());
}

describe(`fuzz (${REQUESTS} requests, seed ${SEED})`, () => {
  test("no 5xx, problem+json errors, the server stays up with bounded memory, only valid rows stored", async () => {
    console.log(`[fuzz] target ${api.target}, seed ${SEED}, ${REQUESTS} requests; reproduce with FUZZ_SEED=${SEED}`);
    const tag = unique("fuzz");
    const state: FuzzState = { tag, workflowIds: [], runIds: [], cursors: [] };
    // With a parameter, as every statement through PgBouncer must have (see sql/client.ts).
    const dbNow = (await api.services.sql<{ now: Date }[]>`SELECT now() AS now WHERE ${1}::int = 1`)[0]!.now;
    const ledger: FuzzLedger = { tag, since: dbNow, created: new Set(), deleted: new Set(), runs: new Set(), triggeredFor: new Set() };

    // Real rows to aim at, and real cursors to tamper with.
    const fixtures = createRng(SEED, -1);
    for (let i = 0; i < 3; i++) {
      const wf = await call(api.url, "POST", "/api/v1/workflows", validWorkflow(tag, fixtures));
      expect(wf.status).toBe(201);
      ledger.created.add(wf.body.id);
      state.workflowIds.push(wf.body.id);
      for (let j = 0; j < 2; j++) {
        ledger.triggeredFor.add(wf.body.id);
        const run = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: wf.body.id, input: { id: j } });
        expect(run.status).toBe(202);
        ledger.runs.add(run.body.run_id);
        state.runIds.push(run.body.run_id);
      }
    }
    for (const q of ["/api/v1/workflows?limit=1", "/api/v1/runs?limit=1", `/api/v1/runs?limit=1&workflow_id=${state.workflowIds[0]}`]) {
      const page = await call(api.url, "GET", q);
      if (page.body.next_cursor) state.cursors.push(page.body.next_cursor);
    }

    const rssBefore = rssOf(api.pid);
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssOf(api.pid))), 250);
    const failures: string[] = [];
    const outages: string[] = [];
    let failed = 0;
    const pgStartedBefore = await postgresStarted();
    const byLabel = new Map<string, Map<number, number>>();
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < REQUESTS; i = next++) {
          const req = nextRequest(createRng(SEED, i), state);
          noteTriggerTarget(req, ledger);
          const out = await send(req, state, ledger);
          const counts = byLabel.get(req.label) ?? new Map<number, number>();
          counts.set(out.status, (counts.get(out.status) ?? 0) + 1);
          byLabel.set(req.label, counts);
          const line = () =>
            `#${i} ${req.method} ${req.path.slice(0, 200)} [${req.headers["content-type"] ?? "no content-type"}] body ${preview(req.body)}\n    -> ${out.failure}`;
          if (out.outage) outages.push(line());
          else if (out.failure) {
            failed++;
            if (failures.length < 25) failures.push(line());
          }
        }
      }),
    );
    clearInterval(sampler);
    const seconds = (performance.now() - started) / 1000;
    // In-process, the test's own garbage shares the heap: collect it before measuring.
    if (api.target === "bun") Bun.gc(true);
    const rssAfter = rssOf(api.pid);
    rssPeak = Math.max(rssPeak, rssAfter);

    const summary = [...byLabel.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([label, counts]) =>
          `  ${label.padEnd(44)} ${[...counts.entries()]
            .sort(([a], [b]) => a - b)
            .map(([s, n]) => `${s}×${n}`)
            .join(" ")}`,
      );
    console.log(
      `[fuzz] ${REQUESTS} requests in ${seconds.toFixed(1)} s (${Math.round(REQUESTS / seconds)}/s); RSS ${(rssBefore / 2 ** 20).toFixed(0)} -> ${(rssAfter / 2 ** 20).toFixed(0)} MiB, peak ${(rssPeak / 2 ** 20).toFixed(0)} MiB\n${summary.join("\n")}`,
    );
    // A 503 is excused only when PostgreSQL was in fact restarted (by another suite) meanwhile.
    const restarted = (await postgresStarted()) !== pgStartedBefore;
    if (outages.length > 0) {
      console.log(
        `[fuzz] ${outages.length} answers 503${restarted ? " while PostgreSQL was restarted by someone else (excused)" : ""}:\n${outages.slice(0, 10).join("\n")}`,
      );
      if (!restarted) {
        failed += outages.length;
        failures.push(...outages.slice(0, 10));
      }
    }
    if (failed > 0) console.log(`[fuzz] ${failed} failures (seed ${SEED}), first ${failures.length}:\n${failures.join("\n")}`);
    expect({ failed, failures }).toEqual({ failed: 0, failures: [] });

    // Still up: the server answers, and (for a spawned server) its process is alive.
    expect((await call(api.url, "GET", "/health")).status).toBe(200);
    expect(existsSync(`/proc/${api.pid}`)).toBe(true);
    expect(rssAfter - rssBefore).toBeLessThan(RSS_GROWTH_LIMIT);

    const problems = await auditRows(api.services.sql, ledger, definitionLimits(api.config), {
      maxInputBytes: api.config.triggerMaxInputBytes,
    });
    if (problems.length > 0) console.log(`[fuzz] database audit:\n  ${problems.slice(0, 30).join("\n  ")}`);
    expect(problems).toEqual([]);
    console.log(`[fuzz] audited ${ledger.created.size} workflows and ${ledger.runs.size} runs`);
  }, 180_000);

  // The fuzzer's first find: a parameterless `SELECT 1` let the driver pipeline the next query,
  // which PgBouncer then delivered to no one (see sql/client.ts). Readiness polled under load
  // stalled queries for the full query timeout and opened the circuit.
  test("readiness probes under load never stall other queries", async () => {
    const wf = (await call(api.url, "POST", "/api/v1/workflows", validWorkflow(unique("ready"), createRng(SEED, -2)))).body;
    const statuses = new Map<number, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < 3000; i = next++) {
          // Lists, not single reads: those may be answered from Redis without a query.
          const path = ["/health/ready", "/api/v1/workflows?limit=2", `/api/v1/runs?limit=2&workflow_id=${wf.id}`][i % 3]!;
          const status = await fetch(`${api.url}${path}`, { signal: AbortSignal.timeout(5000) }).then(
            async (res) => {
              await res.arrayBuffer();
              return res.status;
            },
            () => 0,
          );
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          // One stalled or failed answer is enough: stop rather than wait out every timeout.
          if (status !== 200) next = 3000;
        }
      }),
    );
    // A stalled answer shows as 0 (aborted after 5 s), a timed-out query as 503.
    expect([...statuses]).toEqual([[200, 3000]]);
  }, 60_000);
});
