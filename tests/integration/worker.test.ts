import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cacheKeys } from "@wf/platform/cache";
import type { Subprocess } from "bun";
import Redis from "ioredis";
import { call, createWorkflow as createWorkflowOn, startApi, type TestApi, unique, waitFor } from "../support/api.ts";
import { readTopic } from "../support/kafka.ts";
import { collectLines, freePorts } from "../support/replicas.ts";
import { startTarget } from "../support/target.ts";
import { groupEnv, startSupervisor, startWorkers, type WorkerGroup } from "../support/workers.ts";

const target = startTarget();
const { hits, url: T } = target;

let api: TestApi;
let workers: WorkerGroup;
let env: Record<string, string>;
let metricsBase: number;
beforeAll(async () => {
  metricsBase = await freePorts(3); // one per worker, as the supervisor numbers them
  api = await startApi();
  env = {
    ...groupEnv(api.config.runsTopic, unique("workers")),
    EGRESS_ALLOW: "127.0.0.2",
    RUN_LEASE_MS: "3000",
    RECONCILE_INTERVAL_MS: "1000",
    CANCEL_POLL_MS: "100",
    WORKER_SHUTDOWN_TIMEOUT_MS: "5000",
    WORKER_METRICS_PORT: String(metricsBase),
  };
  workers = startWorkers(3, env);
});
afterAll(async () => {
  await workers?.stopAll("SIGKILL");
  await api.stop();
  target.stop();
});

/** The live worker process that holds the lease of at least one of these runs. */
async function workerRunning(ids: string[]): Promise<Subprocess> {
  const owners = await api.services.sql<{ owner: string }[]>`
    SELECT DISTINCT lease_owner AS owner FROM runs WHERE id = ANY(${`{${ids.join(",")}}`}::uuid[]) AND status = 'running'`;
  const pids = new Set(owners.map((o) => Number(o.owner.split(":")[1])));
  const p = workers.procs.find((w) => pids.has(w.pid) && w.exitCode === null && w.signalCode === null);
  if (!p) throw new Error(`no live worker owns a running run (owners: ${[...pids].join(", ")})`);
  return p;
}

const createWorkflow = (steps: unknown[]) => createWorkflowOn(api.url, { name: unique("wf"), steps });

async function triggerMany(workflowId: string, n: number, input: (i: number) => Record<string, unknown>): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, (_, j) =>
        call(api.url, "POST", "/api/v1/trigger", { workflow_id: workflowId, input: input(i + j) }),
      ),
    );
    for (const r of batch) {
      expect(r.status).toBe(202);
      ids.push(r.body.run_id);
    }
  }
  return ids;
}

type Row = {
  id: string;
  status: string;
  steps: Array<{ name: string; status: string; attempts: number; error?: string }>;
  error: string | null;
  executions: number;
};
const rows = (ids: string[]) =>
  api.services.sql<Row[]>`SELECT id, status, steps, error, executions FROM runs WHERE id = ANY(${`{${ids.join(",")}}`}::uuid[])`;

async function allTerminal(ids: string[], timeoutMs: number): Promise<Row[]> {
  return waitFor(
    `${ids.length} runs to finish`,
    async () => {
      const r = await rows(ids);
      return r.length === ids.length && r.every((x) => ["completed", "failed", "cancelled"].includes(x.status)) ? r : undefined;
    },
    timeoutMs,
    250,
  );
}

const multiStep = (tag: string) => [
  { name: "first", type: "http", config: { method: "POST", url: `${T}/hit/${tag}-{{input.k}}/first`, body: { k: "{{input.k}}" } } },
  { name: "pause", type: "delay", config: { ms: 20 } },
  { name: "second", type: "http", config: { method: "GET", url: `${T}/hit/${tag}-{{input.k}}/second?from={{steps.first.body.n}}` } },
  { name: "shape", type: "transform", config: { output: { k: "{{input.k}}", first: "{{steps.first.status}}" } } },
  { name: "note", type: "log", config: { message: "done {{input.k}}", level: "debug" } },
];

describe("workers", () => {
  test("3 workers complete 500 multi-step runs, each step executed once", async () => {
    const wf = await createWorkflow(multiStep("bulk"));
    const ids = await triggerMany(wf, 500, (i) => ({ k: i }));
    const done = await allTerminal(ids, 90_000);
    expect(done.filter((r) => r.status !== "completed").map((r) => [r.status, r.error])).toEqual([]);
    for (let i = 0; i < 500; i++) {
      expect(hits.get(`/hit/bulk-${i}/first`)).toBe(1);
      expect(hits.get(`/hit/bulk-${i}/second`)).toBe(1);
    }
    const one = await call(api.url, "GET", `/api/v1/runs/${ids[7]}`);
    expect(one.body).toMatchObject({ status: "completed", output: { message: "done 7", level: "debug" } });
    expect(one.body.steps.map((s: { name: string; status: string; attempts: number }) => [s.name, s.status, s.attempts])).toEqual([
      ["first", "completed", 1],
      ["pause", "completed", 1],
      ["second", "completed", 1],
      ["shape", "completed", 1],
      ["note", "completed", 1],
    ]);
    expect(one.body.steps[3].output).toEqual({ k: 7, first: 200 });
    expect(Date.parse(one.body.finished_at)).toBeGreaterThanOrEqual(Date.parse(one.body.started_at));
  });

  test("a run read through the API once it finished shows its final state, not a cached earlier one", async () => {
    // The trigger caches the pending run; the worker must drop that copy when it claims and when it
    // finishes, and the trigger must write it before the message can reach a worker.
    const wf = await createWorkflow([{ name: "shape", type: "transform", config: { output: "{{input.k}}" } }]);
    const ids = await triggerMany(wf, 300, (i) => ({ k: i }));
    await allTerminal(ids, 60_000);
    const answers = await Promise.all(ids.map((id) => call(api.url, "GET", `/api/v1/runs/${id}`)));
    expect(answers.filter((a) => a.body.status !== "completed").map((a) => [a.body.id, a.body.status])).toEqual([]);
  });

  test("a finished run's cached copy is written through by its worker: read without a query", async () => {
    const wf = await createWorkflow([{ name: "shape", type: "transform", config: { output: "{{input.k}}" } }]);
    const ids = await triggerMany(wf, 50, (i) => ({ k: i }));
    await allTerminal(ids, 60_000);
    // Nothing has read these runs through the API: a cached copy can only be the worker's.
    const redis = new Redis(api.config.redisUrl);
    try {
      const cached = await waitFor(
        "the finished runs in Redis",
        async () => {
          const values = await redis.mget(...ids.map((id) => cacheKeys.run(id)));
          const runs = values.map((v) => (v === null ? undefined : JSON.parse(v)));
          return runs.every((r) => r?.status === "completed") ? runs : undefined;
        },
        5_000,
      );
      expect(await redis.ttl(cacheKeys.run(ids[0]!))).toBeLessThanOrEqual(api.config.runCacheTtlS);
      const answers = await Promise.all(ids.map((id) => call(api.url, "GET", `/api/v1/runs/${id}`)));
      expect(answers.map((a) => a.body)).toEqual(cached);
      expect(cached.map((r) => r.output)).toEqual(ids.map((_, i) => i));
    } finally {
      redis.disconnect();
    }
  });

  test("each worker serves /metrics on its port: runs by state, step durations by type, consumer lag", async () => {
    const wf = await createWorkflow(multiStep("metrics"));
    const ids = await triggerMany(wf, 30, (i) => ({ k: i }));
    await allTerminal(ids, 60_000);
    const sum = (texts: string[], re: RegExp) =>
      texts.flatMap((t) => [...t.matchAll(re)].map((m) => Number(m[1]))).reduce((a, b) => a + b, 0);
    // a worker serves its metrics once it has joined the group
    const texts = await Promise.all(
      workers.procs.map((_, i) =>
        waitFor(
          `worker ${i}'s metrics`,
          () =>
            fetch(`http://127.0.0.1:${metricsBase + i}/metrics`).then(
              (r) => r.text(),
              () => undefined,
            ),
          30_000,
        ),
      ),
    );
    expect(sum(texts, /^runs_finished_total\{[^}]*status="completed"[^}]*\} (\d+)/gm)).toBeGreaterThanOrEqual(30);
    expect(sum(texts, /^step_duration_seconds_count\{[^}]*type="http"[^}]*status="completed"[^}]*\} (\d+)/gm)).toBeGreaterThanOrEqual(60);
    expect(sum(texts, /^step_duration_seconds_count\{[^}]*type="delay"[^}]*\} (\d+)/gm)).toBeGreaterThanOrEqual(30);
    expect(texts.join("\n")).toMatch(
      new RegExp(`^kafka_consumer_lag\\{[^}]*topic="${api.config.runsTopic.replace(/[.-]/g, "\\$&")}"`, "m"),
    );
  });

  test("retries with backoff until the target answers; a step that always fails fails the run", async () => {
    const flaky = await createWorkflow([
      {
        name: "call",
        type: "http",
        config: { method: "GET", url: `${T}/flaky/{{input.k}}/2` },
        retry: { max_attempts: 4, backoff_ms: 20 },
      },
    ]);
    const broken = await createWorkflow([
      { name: "call", type: "http", config: { method: "GET", url: `${T}/broken/{{input.k}}` }, retry: { max_attempts: 3, backoff_ms: 10 } },
      { name: "after", type: "log", config: { message: "never" } },
    ]);
    const [f] = await triggerMany(flaky, 1, () => ({ k: unique("f") }));
    const [b] = await triggerMany(broken, 1, () => ({ k: unique("b") }));
    const [rf, rb] = await Promise.all([allTerminal([f!], 30_000), allTerminal([b!], 30_000)]);
    expect(rf[0]).toMatchObject({ status: "completed" });
    expect(rf[0]!.steps[0]).toMatchObject({ status: "completed", attempts: 3 });
    expect(rb[0]).toMatchObject({ status: "failed" });
    expect(rb[0]!.error).toContain('step "call" failed after 3 attempt(s): HTTP 500');
    expect(rb[0]!.steps).toHaveLength(1);
    // The failed step keeps the response it got beside its error: what a user debugs it with.
    expect(rb[0]!.steps[0]).toMatchObject({ status: "failed", attempts: 3, output: { status: 500 } });
    expect(rb[0]!.steps[0]!.error).toContain("HTTP 500");
  });

  test("the egress policy refuses metadata, private and loopback destinations", async () => {
    const ids: string[] = [];
    for (const url of ["http://169.254.169.254/latest/meta-data", "http://10.0.0.1/", "http://localhost:9/", "http://127.0.0.1:9/"]) {
      const wf = await createWorkflow([
        { name: "call", type: "http", config: { method: "GET", url }, retry: { max_attempts: 3, backoff_ms: 1 } },
      ]);
      ids.push(...(await triggerMany(wf, 1, () => ({}))));
    }
    for (const r of await allTerminal(ids, 30_000)) {
      expect(r.status).toBe("failed");
      expect(r.steps[0]!.attempts).toBe(1);
      expect(r.steps[0]!.error).toContain("egress policy refuses");
    }
  });

  test("a poison message goes to the dead-letter topic and later messages are processed", async () => {
    const { createKafka } = await import("@wf/platform/bus");
    const { createLogger } = await import("@wf/platform/observability");
    const producer = createKafka(api.config, createLogger("error")).producer();
    await producer.connect();
    await producer.send({
      topic: api.config.runsTopic,
      messages: [
        { key: "poison-1", value: "not json at all" },
        {
          key: "poison-2",
          value: JSON.stringify({
            run_id: "0190a000-0000-7000-8000-000000000000",
            workflow_id: "0190a000-0000-7000-8000-000000000001",
            workflow_version: 1,
          }),
        },
      ],
    });
    await producer.disconnect();
    const wf = await createWorkflow([{ name: "t", type: "transform", config: { output: "ok" } }]);
    const ids = await triggerMany(wf, 5, () => ({}));
    expect((await allTerminal(ids, 30_000)).every((r) => r.status === "completed")).toBe(true);
    const dlq = await readTopic(api.config, env.KAFKA_DEAD_LETTER_TOPIC!, (m) => m.length >= 2, { timeoutMs: 30_000, settleMs: 200 });
    expect(dlq.map((m) => m.key).sort()).toEqual(["poison-1", "poison-2"]);
    const reasons = Object.fromEntries(dlq.map((m) => [m.key, m.headers.reason]));
    expect(reasons).toEqual({
      "poison-1": "bad message: message value is not JSON",
      "poison-2": "run 0190a000-0000-7000-8000-000000000000 does not exist",
    });
    expect(dlq.find((m) => m.key === "poison-1")!.value).toBe("not json at all");
  });

  test("cancelling a run inside a long delay ends it cancelled promptly", async () => {
    const wf = await createWorkflow([
      { name: "wait", type: "delay", config: { ms: 60_000 } },
      { name: "after", type: "http", config: { method: "GET", url: `${T}/hit/cancel/after` } },
    ]);
    const [id] = await triggerMany(wf, 1, () => ({}));
    await waitFor("the run to start", async () => (await rows([id!]))[0]?.status === "running", 20_000);
    const t0 = Date.now();
    const c = await call(api.url, "POST", `/api/v1/runs/${id}/cancel`);
    expect(c.status).toBe(200);
    const [r] = await waitFor(
      "the worker to stop it",
      async () => {
        const x = await rows([id!]);
        return x[0]?.steps[0]?.status === "cancelled" ? x : undefined;
      },
      5000,
      50,
    );
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(r!.status).toBe("cancelled");
    await Bun.sleep(300);
    expect(hits.get("/hit/cancel/after")).toBeUndefined();
  });

  test("kill -9 of a worker mid-load: every run ends in one terminal state, no recorded step runs twice", async () => {
    const wf = await createWorkflow([
      { name: "first", type: "http", config: { method: "GET", url: `${T}/hit/kill-{{input.k}}/first` } },
      // Long enough that the victim still holds runs when it dies, even if the queries that pick it
      // wait behind a loaded PgBouncer pool (a 400 ms pause once let it finish them all first).
      { name: "pause", type: "delay", config: { ms: 1500 } },
      { name: "second", type: "http", config: { method: "GET", url: `${T}/hit/kill-{{input.k}}/second` } },
    ]);
    const ids = await triggerMany(wf, 150, (i) => ({ k: i }));
    await waitFor("runs to be in flight", async () => (await rows(ids)).filter((r) => r.status === "running").length >= 20, 20_000, 20);
    const victim = await workerRunning(ids);
    victim.kill("SIGKILL");
    await victim.exited;
    workers.add(); // as the supervisor would
    const done = await allTerminal(ids, 90_000);
    expect(done.filter((r) => r.status !== "completed").map((r) => [r.status, r.error])).toEqual([]);
    expect(done.some((r) => r.executions > 1)).toBe(true); // some were resumed by another worker
    for (let i = 0; i < 150; i++) {
      const first = hits.get(`/hit/kill-${i}/first`) ?? 0;
      const second = hits.get(`/hit/kill-${i}/second`) ?? 0;
      // A step can repeat only if it was in flight when its worker died; never one already recorded.
      expect(first).toBeGreaterThanOrEqual(1);
      expect(second).toBeGreaterThanOrEqual(1);
      expect(first + second).toBeLessThanOrEqual(3);
    }
  });

  test("workers killed and restarted over and over during 2,000 runs: every run terminal once, each step recorded once", async () => {
    const steps = [
      { name: "pause", type: "delay", config: { ms: 30 } },
      { name: "shape", type: "transform", config: { output: { k: "{{input.k}}" } } },
      { name: "note", type: "log", config: { message: "churn {{input.k}}", level: "debug" } },
    ];
    const wf = await createWorkflow(steps);
    const triggering = triggerMany(wf, 2000, (i) => ({ k: i }));
    let kills = 0;
    const churn = (async () => {
      for (; kills < 6; kills++) {
        await Bun.sleep(700);
        const live = workers.procs.filter((w) => w.exitCode === null && w.signalCode === null);
        const victim = live[kills % live.length]!;
        victim.kill("SIGKILL");
        await victim.exited;
        workers.add(); // as the supervisor would
      }
    })();
    const ids = await triggering;
    await churn;
    expect(kills).toBe(6);
    const done = await allTerminal(ids, 120_000);
    expect(new Set(done.map((r) => r.id)).size).toBe(2000);
    expect(done.filter((r) => r.status !== "completed").map((r) => [r.status, r.error])).toEqual([]);
    for (const r of done) expect(r.steps.map((s) => [s.name, s.status])).toEqual(steps.map((s) => [s.name, "completed"]));
  });

  test("SIGTERM during load loses nothing and exits 0", async () => {
    const wf = await createWorkflow([
      { name: "pause", type: "delay", config: { ms: 300 } },
      { name: "call", type: "http", config: { method: "GET", url: `${T}/hit/term-{{input.k}}/call` } },
    ]);
    const ids = await triggerMany(wf, 200, (i) => ({ k: i }));
    await waitFor("runs to be in flight", async () => (await rows(ids)).filter((r) => r.status === "running").length >= 10, 20_000, 20);
    const leaving = await workerRunning(ids);
    leaving.kill("SIGTERM");
    expect(await leaving.exited).toBe(0);
    const done = await allTerminal(ids, 90_000);
    expect(done.filter((r) => r.status !== "completed")).toEqual([]);
    for (let i = 0; i < 200; i++) expect(hits.get(`/hit/term-${i}/call`)).toBeGreaterThanOrEqual(1);
  });
});

describe("bun run worker", () => {
  test("starts WORKER_REPLICAS processes and restarts one that dies", async () => {
    const sup = startSupervisor({
      ...env,
      WORKER_REPLICAS: "2",
      WORKER_GROUP_ID: unique("supervised"),
    });
    const lines = collectLines(sup);
    const started = () => lines.filter((l) => l.includes("worker replica started")).map((l) => JSON.parse(l).pid as number);
    try {
      await waitFor("2 replicas", async () => started().length === 2, 20_000);
      await waitFor("both consuming", async () => lines.filter((l) => l.includes("worker consuming")).length === 2, 60_000);
      process.kill(started()[0]!, "SIGKILL");
      await waitFor("a replacement", async () => started().length === 3, 20_000);
      expect(lines.some((l) => l.includes("restarting"))).toBe(true);
    } finally {
      sup.kill("SIGTERM");
      expect(await sup.exited).toBe(0);
    }
  });
});
