import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newId } from "@wf/core/ids";
import { type StepResult, toRun } from "@wf/core/runs";
import type { StepSpec } from "@wf/core/workflows";
import { Cache, cacheKeys, createRedis } from "@wf/platform/cache";
import type { Config } from "@wf/platform/config";
import { createSql, type Sql } from "@wf/platform/sql";
import { ExecutionStore } from "@wf/services/execution";
import { RunStore } from "@wf/services/runs";
import { RunExecutor, UnknownRun } from "./run-executor.ts";
import { RunWatch } from "./run-watch.ts";
import {
  deleteRuns,
  insertRun,
  migrated,
  recordingLogger,
  runState,
  type StoredRun,
  testConfig,
  unique,
  waitFor,
} from "./testing/stack.ts";

// RunExecutor against the real PostgreSQL (through PgBouncer) and Redis, with a RunWatch polling
// for cancellations and renewing leases as in a worker process. The http steps call a real server
// on loopback, which the egress policy is told to allow; it counts the calls per path.
const hits = new Map<string, number>();
const target = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req) {
    const path = new URL(req.url).pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const [, kind, tag] = path.split("/");
    if (kind === "broken") return new Response("down", { status: 500 });
    return Response.json({ tag });
  },
});
const T = `http://127.0.0.1:${target.port}`;

const LEASE_MS = 3000;
const CACHE_TTL_S = 3600;
let config: Config;
let sql: Sql;
let cache: Cache;
let redis: ReturnType<typeof createRedis>;
let owner: string;
let store: ExecutionStore;
let watch: RunWatch;
const never = new AbortController().signal;

beforeAll(async () => {
  config = testConfig({
    egressAllow: ["127.0.0.1"],
    runLeaseMs: LEASE_MS,
    cancelPollMs: 50,
    runCacheTtlS: CACHE_TTL_S,
    runTimeoutMs: 600_000,
  });
  await migrated(config);
  sql = createSql(config);
  cache = new Cache(config);
  redis = createRedis(config);
  owner = unique("test-executor");
  store = new ExecutionStore(sql, owner, config.runLeaseMs);
  watch = new RunWatch(store, recordingLogger().log, { pollMs: config.cancelPollMs, leaseMs: config.runLeaseMs });
  watch.start();
});

afterAll(async () => {
  watch?.stop();
  if (sql) {
    await deleteRuns(sql, [config.runsTopic]);
    await sql.end({ timeout: 5 });
  }
  await cache?.close();
  redis?.disconnect();
  target.stop(true);
});

/** An executor of its own (stats from zero), recording its log lines and the step metric. */
function newExecutor(overrides: Partial<Config> = {}) {
  const { log, lines } = recordingLogger();
  const observed: Array<[string, string]> = [];
  const executor = new RunExecutor(store, cache, watch, log, { ...config, ...overrides }, undefined, (type, status, seconds) => {
    expect(seconds).toBeGreaterThanOrEqual(0);
    observed.push([type, status]);
  });
  return { executor, lines, observed };
}

const store_ = (r: StoredRun) => insertRun(sql, config.runsTopic, r);
const row = (id: string) => runState(sql, id);
const cached = async (id: string) => {
  const v = await redis.get(cacheKeys.run(id));
  return v === null ? null : JSON.parse(v);
};
const shape = (steps: StepResult[]) => steps.map((s) => [s.name, s.status, s.attempts]);
const stats = (o: Partial<RunExecutor["stats"]>) => ({ completed: 0, failed: 0, cancelled: 0, handedBack: 0, skipped: 0, parked: 0, ...o });
const stepDone = (name: string, output: unknown): StepResult => ({
  name,
  status: "completed",
  attempts: 1,
  started_at: new Date().toISOString(),
  finished_at: new Date().toISOString(),
  output,
});

describe("RunExecutor", () => {
  test("a pending run is claimed, its steps run once in order, and it completes with its last step's output", async () => {
    const tag = unique("ok");
    const id = await store_({
      definition: [
        { name: "fetch", type: "http", config: { method: "GET", url: `${T}/ok/${tag}` } },
        { name: "shape", type: "transform", config: { output: { tag: "{{steps.fetch.body.tag}}", k: "{{input.k}}" } } },
        { name: "note", type: "log", config: { message: "done {{steps.shape.k}}", level: "warn" } },
      ],
      input: { k: 7 },
    });
    const { executor, lines, observed } = newExecutor();

    expect(await executor.execute(id, never)).toBe("done");
    const r = await row(id);
    expect(r).toMatchObject({
      status: "completed",
      output: { message: "done 7", level: "warn" },
      error: null,
      executions: 1,
      lease_owner: null,
      lease_expires_at: null,
    });
    expect(r.finished_at).not.toBeNull();
    expect(shape(r.steps)).toEqual([
      ["fetch", "completed", 1],
      ["shape", "completed", 1],
      ["note", "completed", 1],
    ]);
    expect(r.steps[1]!.output).toEqual({ tag, k: 7 });
    expect(hits.get(`/ok/${tag}`)).toBe(1);
    expect(executor.stats).toEqual(stats({ completed: 1 }));
    // The engine's log step and step metric go to the worker's logger and metric.
    expect(lines).toContainEqual(expect.objectContaining({ level: "warn", msg: "done 7", run_id: id, step: "note" }));
    expect(observed).toEqual([
      ["http", "completed"],
      ["transform", "completed"],
      ["log", "completed"],
    ]);

    // Its message delivered again (at-least-once): nothing runs twice, the run keeps its one terminal state.
    const before = await row(id);
    expect(await executor.execute(id, never)).toBe("done");
    expect(hits.get(`/ok/${tag}`)).toBe(1);
    expect(await row(id)).toEqual(before);
    expect(executor.stats).toEqual(stats({ completed: 1, skipped: 1 }));
  });

  test("the finished run is written through to Redis: the stored run as the API shows it, with the run cache TTL", async () => {
    const id = await store_({ definition: [{ name: "shape", type: "transform", config: { output: "{{input.k}}" } }], input: { k: "v" } });
    // The copy the trigger cached, with a short TTL of its own.
    await cache.set(cacheKeys.run(id), JSON.stringify({ id, status: "pending" }), 30);
    const { executor } = newExecutor();

    expect(await executor.execute(id, never)).toBe("done");
    const stored = await new RunStore(sql).get(id);
    expect(stored?.status).toBe("completed");
    expect(await cached(id)).toEqual(JSON.parse(JSON.stringify(toRun(stored!))));
    expect(await redis.ttl(cacheKeys.run(id))).toBeGreaterThan(30);
    expect(await redis.ttl(cacheKeys.run(id))).toBeLessThanOrEqual(CACHE_TTL_S);
  });

  test("a step that fails for good fails the run with the step's error; later steps do not run", async () => {
    const tag = unique("broken");
    const id = await store_({
      definition: [
        { name: "call", type: "http", config: { method: "GET", url: `${T}/broken/${tag}` }, retry: { max_attempts: 2, backoff_ms: 1 } },
        { name: "after", type: "http", config: { method: "GET", url: `${T}/ok/${tag}` } },
      ],
    });
    const { executor, observed } = newExecutor();

    expect(await executor.execute(id, never)).toBe("done");
    const r = await row(id);
    expect(r).toMatchObject({ status: "failed", output: null, executions: 1, lease_owner: null });
    expect(r.error).toStartWith(`step "call" failed after 2 attempt(s): HTTP 500`);
    expect(shape(r.steps)).toEqual([["call", "failed", 2]]);
    expect(r.steps[0]).toMatchObject({ error: expect.stringContaining("HTTP 500"), output: { status: 500, body: "down" } });
    expect(hits.get(`/broken/${tag}`)).toBe(2);
    expect(hits.get(`/ok/${tag}`)).toBeUndefined();
    expect(executor.stats).toEqual(stats({ failed: 1 }));
    expect(observed).toEqual([["http", "failed"]]);
    // A failed run is terminal too: written through.
    expect(await cached(id)).toMatchObject({ id, status: "failed", error: r.error });
  });

  test("a run already finished is skipped: no step runs and the row is left as it was", async () => {
    const tag = unique("finished");
    const id = await store_({
      status: "completed",
      definition: [{ name: "fetch", type: "http", config: { method: "GET", url: `${T}/ok/${tag}` } }],
    });
    const before = await row(id);
    const { executor } = newExecutor();

    expect(await executor.execute(id, never)).toBe("done");
    expect(await row(id)).toEqual(before);
    expect(hits.get(`/ok/${tag}`)).toBeUndefined();
    expect(executor.stats).toEqual(stats({ skipped: 1 }));
  });

  test("a run another owner leases for longer than a lease of ours is left to that owner at once", async () => {
    const tag = unique("leased");
    const id = await store_({
      status: "running",
      definition: [{ name: "fetch", type: "http", config: { method: "GET", url: `${T}/ok/${tag}` } }],
      executions: 1,
      leaseOwner: "another-worker",
      leaseExpiresInMs: 10 * 60_000,
    });
    const before = await row(id);
    const { executor } = newExecutor();

    expect(await executor.execute(id, never)).toBe("done");
    expect(await row(id)).toEqual(before);
    expect(hits.get(`/ok/${tag}`)).toBeUndefined();
    expect(executor.stats).toEqual(stats({ skipped: 1 }));
  });

  test("a lease about to lapse (its owner died) is waited out, then the run is taken over and resumed after its completed steps", async () => {
    const tag = unique("takeover");
    const id = await store_({
      status: "running",
      definition: [
        { name: "fetch", type: "http", config: { method: "GET", url: `${T}/ok/${tag}` } },
        { name: "shape", type: "transform", config: { output: "{{steps.fetch.body.tag}}" } },
      ],
      // What the dead owner checkpointed after its http step.
      steps: [stepDone("fetch", { status: 200, headers: {}, body: { tag: "from-the-first-owner" } })],
      executions: 1,
      leaseOwner: "a-dead-worker",
      leaseExpiresInMs: 1000,
    });
    const { executor } = newExecutor();

    expect(await executor.execute(id, never)).toBe("done");
    const r = await row(id);
    expect(r).toMatchObject({ status: "completed", output: "from-the-first-owner", executions: 2, lease_owner: null });
    expect(shape(r.steps)).toEqual([
      ["fetch", "completed", 1],
      ["shape", "completed", 1],
    ]);
    expect(hits.get(`/ok/${tag}`)).toBeUndefined();
    expect(executor.stats).toEqual(stats({ completed: 1 }));
  });

  test("shutdown while waiting out another owner's lease hands the message back and leaves the run alone", async () => {
    const id = await store_({
      status: "running",
      definition: [{ name: "shape", type: "transform", config: { output: 1 } }],
      executions: 1,
      leaseOwner: "a-dead-worker",
      leaseExpiresInMs: LEASE_MS - 500,
    });
    const before = await row(id);
    const shutdown = new AbortController();
    shutdown.abort("shutdown");
    const { executor } = newExecutor();

    expect(await executor.execute(id, shutdown.signal)).toBe("handed_back");
    expect(await row(id)).toMatchObject({ status: "running", lease_owner: "a-dead-worker", executions: 1, updated_at: before.updated_at });
    expect(executor.stats).toEqual(stats({}));
  });

  test("an id with no stored run is refused with UnknownRun", async () => {
    const { executor } = newExecutor();
    const id = newId();
    const refused = await executor.execute(id, never).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(UnknownRun);
    expect((refused as Error).message).toBe(`run ${id} does not exist`);
    expect(executor.stats).toEqual(stats({}));
  });

  test("a run cancelled while it runs ends cancelled with the steps that ran; the cached copy is dropped, not rewritten", async () => {
    const id = await store_({
      definition: [
        { name: "shape", type: "transform", config: { output: "shaped" } },
        { name: "wait", type: "delay", config: { ms: 60_000 } },
        { name: "note", type: "log", config: { message: "never logged" } },
      ],
    });
    await cache.set(cacheKeys.run(id), JSON.stringify({ id, status: "pending" }), CACHE_TTL_S);
    const { executor, lines } = newExecutor();

    const handled = executor.execute(id, never);
    await waitFor("the run to be claimed", async () => (await row(id)).lease_owner === owner, 10_000);
    // Once claimed, readers must not be served the pending copy any more.
    await waitFor("the pending copy to be dropped", async () => (await redis.exists(cacheKeys.run(id))) === 0, 10_000);
    expect(await new RunStore(sql).cancel(id, new Date())).toBeDefined();

    expect(await handled).toBe("done");
    const r = await row(id);
    expect(r).toMatchObject({ status: "cancelled", error: "cancelled by request", lease_owner: null, lease_expires_at: null });
    expect(shape(r.steps)).toEqual([
      ["shape", "completed", 1],
      ["wait", "cancelled", 1],
    ]);
    expect(r.steps[1]!.error).toBe("stopped: cancelled");
    expect(lines.map((l) => l.msg)).not.toContain("never logged");
    expect(executor.stats).toEqual(stats({ cancelled: 1 }));
    expect(await cached(id)).toBeNull();
  });

  test("a wait longer than PARK_AFTER_MS parks the run: the message is done, nobody holds it, and it wakes at the due time", async () => {
    const tag = unique("park");
    const id = await store_({
      definition: [
        { name: "fetch", type: "http", config: { method: "GET", url: `${T}/ok/${tag}` } },
        { name: "pause", type: "delay", config: { ms: 60_000 } },
        { name: "after", type: "transform", config: { output: "{{steps.fetch.body.tag}}" } },
      ],
    });
    const { executor } = newExecutor({ parkAfterMs: 1_000 });
    const before = Date.now();
    expect(await executor.execute(id, never)).toBe("done");
    expect(executor.stats).toEqual(stats({ parked: 1 }));
    const r = await row(id);
    expect(r).toMatchObject({ status: "running", lease_owner: null, lease_expires_at: null, finished_at: null, executions: 1 });
    expect(shape(r.steps)).toEqual([
      ["fetch", "completed", 1],
      ["pause", "waiting", 1],
    ]);
    const due = Date.parse(r.steps[1]!.wait!.until!);
    expect(due).toBeGreaterThanOrEqual(before + 60_000);
    expect(r.wake_at!.getTime()).toBe(due);
    expect(await cached(id)).toBeNull();

    // A message for it before the timer woke it (a duplicate) is a no-op: no claim, no step.
    expect(await executor.execute(id, never)).toBe("done");
    expect(executor.stats).toEqual(stats({ parked: 1, skipped: 1 }));
    expect((await row(id)).executions).toBe(1);
    expect(hits.get(`/ok/${tag}`)).toBe(1);
  });

  test("a run over its time limit is failed with the time-limit error", async () => {
    const id = await store_({ definition: [{ name: "wait", type: "delay", config: { ms: 60_000 } }] });
    const { executor } = newExecutor({ runTimeoutMs: 300 });

    expect(await executor.execute(id, never)).toBe("done");
    const r = await row(id);
    expect(r).toMatchObject({ status: "failed", error: "run exceeded its time limit of 300 ms", output: null, lease_owner: null });
    expect(shape(r.steps)).toEqual([["wait", "cancelled", 1]]);
    expect(r.steps[0]!.error).toBe("stopped: timeout");
    expect(executor.stats).toEqual(stats({ failed: 1 }));
    expect(await cached(id)).toMatchObject({ id, status: "failed", error: "run exceeded its time limit of 300 ms" });
  });

  test("the workflow's timeout_ms, nearer than RUN_TIMEOUT_MS, fails the run with an error that names it", async () => {
    const id = await store_({ definition: [{ name: "wait", type: "delay", config: { ms: 60_000 } }] });
    await sql`UPDATE runs SET timeout_ms = 300 WHERE id = ${id}::uuid`;
    const { executor } = newExecutor();
    const t0 = Date.now();
    expect(await executor.execute(id, never)).toBe("done");
    expect(Date.now() - t0).toBeLessThan(5_000);
    const r = await row(id);
    expect(r).toMatchObject({ status: "failed", error: "run exceeded its workflow's timeout_ms of 300 ms" });
    expect(shape(r.steps)).toEqual([["wait", "cancelled", 1]]);
  });

  test("RUN_TIMEOUT_MS, nearer than what is left of the workflow's timeout, names itself", async () => {
    const id = await store_({ definition: [{ name: "wait", type: "delay", config: { ms: 60_000 } }] });
    await sql`UPDATE runs SET timeout_ms = 60000 WHERE id = ${id}::uuid`;
    const { executor } = newExecutor({ runTimeoutMs: 300 });
    expect(await executor.execute(id, never)).toBe("done");
    expect(await row(id)).toMatchObject({ status: "failed", error: "run exceeded its time limit of 300 ms" });
  });

  test("a run whose workflow timeout is over when it is taken is failed without executing; its waiting step is recorded stopped", async () => {
    const tag = unique("late");
    const before = stepDone("before", 1);
    const id = await store_({
      definition: [
        { name: "before", type: "transform", config: { output: 1 } },
        { name: "pause", type: "delay", config: { ms: 60_000 } },
        { name: "after", type: "http", config: { method: "GET", url: `${T}/ok/${tag}` } },
      ],
      status: "running",
      leaseOwner: "the-timer",
      leaseExpiresInMs: -1,
      steps: [
        before,
        { ...stepDone("pause", null), status: "waiting", finished_at: null, wait: { until: new Date(Date.now() + 60_000).toISOString() } },
      ],
    });
    // Started 2 s ago with a 1 s timeout: the timer woke it at its deadline.
    await sql`UPDATE runs SET timeout_ms = 1000, started_at = now() - interval '2 seconds' WHERE id = ${id}::uuid`;
    const { executor } = newExecutor();
    expect(await executor.execute(id, never)).toBe("done");
    const r = await row(id);
    expect(r).toMatchObject({ status: "failed", error: "run exceeded its workflow's timeout_ms of 1000 ms", lease_owner: null });
    expect(shape(r.steps)).toEqual([
      ["before", "completed", 1],
      ["pause", "cancelled", 1],
    ]);
    expect(r.steps[1]).toMatchObject({ error: "stopped: timeout" });
    expect(r.steps[1]!.wait).toBeUndefined();
    expect(hits.get(`/ok/${tag}`)).toBeUndefined();
  });

  test("a run parked with a workflow timeout is to be woken no later than its deadline", async () => {
    const id = await store_({ definition: [{ name: "pause", type: "delay", config: { ms: 60_000 } }] });
    await sql`UPDATE runs SET timeout_ms = 1500 WHERE id = ${id}::uuid`;
    const { executor } = newExecutor({ parkAfterMs: 100 });
    expect(await executor.execute(id, never)).toBe("done");
    const [r] = await sql<{ status: string; lease_owner: string | null; deadline: Date; wake_at: Date }[]>`
      SELECT status, lease_owner, started_at + interval '1500 milliseconds' AS deadline, wake_at FROM runs WHERE id = ${id}::uuid`;
    expect(r).toMatchObject({ status: "running", lease_owner: null });
    expect(r!.wake_at).toEqual(r!.deadline);
  });

  test("shutdown mid-run hands the run back: no terminal state, progress saved, lease released for the next owner", async () => {
    const tag = unique("handback");
    const definition: StepSpec[] = [
      { name: "fetch", type: "http", config: { method: "GET", url: `${T}/ok/${tag}` } },
      { name: "wait", type: "delay", config: { ms: 60_000 } },
      { name: "shape", type: "transform", config: { output: "{{steps.fetch.body.tag}}" } },
    ];
    const id = await store_({ definition });
    const shutdown = new AbortController();
    const { executor } = newExecutor();

    const handled = executor.execute(id, shutdown.signal);
    // The http step is checkpointed before the delay starts.
    await waitFor("the http step to be checkpointed", async () => (await row(id)).steps[0]?.status === "completed", 10_000);
    shutdown.abort("shutdown");

    expect(await handled).toBe("handed_back");
    const r = await row(id);
    expect(r).toMatchObject({ status: "running", lease_owner: owner, finished_at: null, executions: 1 });
    expect(r.lease_lapsed).toBe(true);
    expect(shape(r.steps)).toEqual([
      ["fetch", "completed", 1],
      ["wait", "cancelled", 1],
    ]);
    expect(executor.stats).toEqual(stats({ handedBack: 1 }));

    // Another worker may claim it at once (the lease was LEASE_MS long) and gets the progress.
    const next = await new ExecutionStore(sql, unique("test-next-owner"), config.runLeaseMs).claim(id);
    expect("why" in next).toBe(false);
    if (!("why" in next)) {
      expect(next.executions).toBe(2);
      expect(shape(next.steps)).toEqual(shape(r.steps));
      expect(next.steps[0]!.output).toMatchObject({ status: 200, body: { tag } });
    }
    expect(hits.get(`/ok/${tag}`)).toBe(1);
  });

  test("a shutdown that comes while the run is being claimed hands it back instead of running it to the end", async () => {
    const definition: StepSpec[] = [{ name: "wait", type: "delay", config: { ms: 3_000 } }];
    const id = await store_({ definition });
    const shutdown = new AbortController();
    // Aborted before execute() has claimed: the signal's event has fired by the time the run starts.
    shutdown.abort("shutdown");
    const { executor } = newExecutor();

    expect(await executor.execute(id, shutdown.signal)).toBe("handed_back");
    const r = await row(id);
    expect(r).toMatchObject({ status: "running", finished_at: null });
    expect(r.lease_lapsed).toBe(true);
    expect(executor.stats).toEqual(stats({ handedBack: 1 }));
  });

  test("a run another worker took over mid-run is left to it: the message is done, nothing is written", async () => {
    const id = await store_({ definition: [{ name: "wait", type: "delay", config: { ms: 60_000 } }] });
    const { executor, observed } = newExecutor();

    const handled = executor.execute(id, never);
    await waitFor("the run to be claimed", async () => (await row(id)).lease_owner === owner, 10_000);
    await sql`UPDATE runs SET lease_owner = 'the-new-owner', executions = executions + 1 WHERE id = ${id}::uuid`;

    expect(await handled).toBe("done");
    // Stopped as soon as the loss was seen, not after the delay ran out.
    expect(observed).toEqual([["delay", "cancelled"]]);
    expect(await row(id)).toMatchObject({ status: "running", lease_owner: "the-new-owner", steps: [], executions: 2, finished_at: null });
    expect(await cached(id)).toBeNull();
  });

  test("two deliveries of one message at once: one executes the run, the other waits out the live lease and skips it", async () => {
    const tag = unique("twice");
    const id = await store_({
      definition: [
        { name: "fetch", type: "http", config: { method: "GET", url: `${T}/ok/${tag}` } },
        { name: "shape", type: "transform", config: { output: "{{steps.fetch.body.tag}}" } },
      ],
    });
    const { executor } = newExecutor();

    expect(await Promise.all([executor.execute(id, never), executor.execute(id, never)])).toEqual(["done", "done"]);
    expect(await row(id)).toMatchObject({ status: "completed", output: tag, executions: 1 });
    expect(hits.get(`/ok/${tag}`)).toBe(1);
    expect(executor.stats).toEqual(stats({ completed: 1, skipped: 1 }));
  });
});
