import { afterAll, describe, expect, test } from "bun:test";
import { abortableSleep, type EngineDeps, executeRun } from "@wf/core/engine";
import type { StepResult } from "@wf/core/runs";
import type { StepSpec } from "@wf/core/workflows";
import { EgressPolicy } from "./egress.ts";
import { runHttpStep } from "./http-step.ts";

// A real HTTP target: /flaky/<key>/<n> fails n times per key, then answers; /slow sleeps.
const calls = new Map<string, number>();
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    const u = new URL(req.url);
    const [, kind, key = "", n = "0"] = u.pathname.split("/");
    const count = (calls.get(u.pathname) ?? 0) + 1;
    calls.set(u.pathname, count);
    if (kind === "flaky" && count <= Number(n)) return new Response("nope", { status: 503 });
    if (kind === "big") return new Response("x".repeat(4096));
    if (kind === "echo") return Response.json({ key, method: req.method, body: req.body ? await req.json() : null });
    return Response.json({ ok: true, key, count });
  },
});
afterAll(() => server.stop(true));
const base = `http://127.0.0.1:${server.port}`;

const policy = new EgressPolicy(["127.0.0.1"]);
const logs: Array<[string, string]> = [];
const deps: EngineDeps = {
  http: (c, s) => runHttpStep(c, policy, { defaultTimeoutMs: 2000, maxResponseBytes: 1024 }, s),
  sleep: abortableSleep,
  log: (level, message) => logs.push([level, message]),
  random: () => 0.5,
};
const run = (
  steps: StepSpec[],
  input: unknown = {},
  prior: StepResult[] = [],
  signal = new AbortController().signal,
  saved: StepResult[][] = [],
) =>
  executeRun(
    { runId: "r1", steps, input, prior },
    deps,
    async (s) => {
      saved.push(structuredClone(s));
      return true;
    },
    signal,
  );

describe("executeRun", () => {
  test("runs every step type in order, with templating across steps", async () => {
    const saved: StepResult[][] = [];
    const out = await run(
      [
        { name: "fetch", type: "http", config: { method: "POST", url: `${base}/echo/{{input.id}}`, body: { n: "{{input.n}}" } } },
        { name: "pause", type: "delay", config: { ms: 5 } },
        {
          name: "shape",
          type: "transform",
          config: { output: { id: "{{steps.fetch.body.key}}", n: "{{steps.fetch.body.body.n}}", status: "{{steps.fetch.status}}" } },
        },
        { name: "note", type: "log", config: { message: "done {{steps.shape.id}}" } },
      ],
      { id: "abc", n: 3 },
      [],
      undefined,
      saved,
    );
    expect(out.status).toBe("completed");
    expect(out.steps.map((s) => [s.name, s.status, s.attempts])).toEqual([
      ["fetch", "completed", 1],
      ["pause", "completed", 1],
      ["shape", "completed", 1],
      ["note", "completed", 1],
    ]);
    expect(out.steps[2]!.output).toEqual({ id: "abc", n: 3, status: 200 });
    expect(out.status === "completed" && out.output).toEqual({ message: "done abc", level: "info" });
    expect(logs).toContainEqual(["info", "done abc"]);
    // Only the http step is checkpointed before the run goes on; the others are cheap to redo.
    expect(saved.length).toBe(1);
    expect(saved[0]!.map((r) => [r.name, r.status])).toEqual([["fetch", "completed"]]);
    for (const s of out.steps) expect(Date.parse(s.finished_at!)).toBeGreaterThanOrEqual(Date.parse(s.started_at!));
  });

  test("retries with backoff until the target succeeds", async () => {
    const t0 = performance.now();
    const out = await run([
      { name: "f", type: "http", config: { method: "GET", url: `${base}/flaky/a/2` }, retry: { max_attempts: 3, backoff_ms: 20 } },
    ]);
    expect(out.status).toBe("completed");
    expect(out.steps[0]!.attempts).toBe(3);
    expect(calls.get("/flaky/a/2")).toBe(3);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(20 + 40 - 5);
  });

  test("a step that always fails ends the run failed with its error", async () => {
    const out = await run([
      { name: "f", type: "http", config: { method: "GET", url: `${base}/flaky/b/99` }, retry: { max_attempts: 2, backoff_ms: 1 } },
      { name: "never", type: "log", config: { message: "x" } },
    ]);
    expect(out.status).toBe("failed");
    expect(out.status === "failed" && out.error).toContain('step "f" failed after 2 attempt(s): HTTP 503');
    expect(out.steps.map((s) => s.status)).toEqual(["failed"]);
    expect(out.steps[0]!.error).toBe(`HTTP 503 from 127.0.0.1:${server.port}`);
  });

  test("the egress policy fails the step at once, without retries", async () => {
    const out = await run([
      {
        name: "meta",
        type: "http",
        config: { method: "GET", url: "http://169.254.169.254/latest" },
        retry: { max_attempts: 5, backoff_ms: 1 },
      },
    ]);
    expect(out.status).toBe("failed");
    expect(out.steps[0]!.attempts).toBe(1);
    expect(out.steps[0]!.error).toContain("link-local");
  });

  test("an oversized response fails the step", async () => {
    const out = await run([{ name: "b", type: "http", config: { method: "GET", url: `${base}/big/x` } }]);
    expect(out.steps[0]!.error).toContain("1024-byte limit");
  });

  test("a resumed run skips the steps already recorded as completed", async () => {
    const prior: StepResult[] = [
      { name: "first", status: "completed", attempts: 1, started_at: null, finished_at: null, output: { v: 1 } },
    ];
    const out = await run(
      [
        { name: "first", type: "http", config: { method: "GET", url: `${base}/once/first` } },
        { name: "second", type: "transform", config: { output: "{{steps.first.v}}" } },
      ],
      {},
      prior,
    );
    expect(calls.get("/once/first")).toBeUndefined();
    expect(out.status === "completed" && out.output).toBe(1);
  });

  test("an abort stops a long delay promptly and reports why", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort("cancelled"), 30);
    const t0 = performance.now();
    const out = await run(
      [
        { name: "wait", type: "delay", config: { ms: 10_000 } },
        { name: "after", type: "log", config: { message: "x" } },
      ],
      {},
      [],
      ac.signal,
    );
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(out).toMatchObject({ status: "stopped", reason: "cancelled" });
    expect(out.steps.map((s) => s.status)).toEqual(["cancelled"]);
  });

  test("a refused checkpoint stops the run before the next step", async () => {
    const out = await executeRun(
      {
        runId: "r2",
        input: {},
        prior: [],
        steps: [
          { name: "a", type: "http", config: { method: "GET", url: `${base}/first/a` } },
          { name: "b", type: "http", config: { method: "GET", url: `${base}/never/b` } },
        ],
      },
      deps,
      async () => false,
      new AbortController().signal,
    );
    expect(out).toMatchObject({ status: "stopped", reason: "checkpoint_refused" });
    expect(calls.get("/never/b")).toBeUndefined();
  });
});
