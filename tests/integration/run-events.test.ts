import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRedis } from "@wf/platform/cache";
import { ChannelSubscriber, RunChanges, runChannel } from "@wf/platform/changes";
import { ExecutionStore } from "@wf/services/execution";
import type { Subprocess } from "bun";
import { call, createWorkflow, startApi, type TestApi, triggerRun, unique, waitFor } from "../support/api.ts";
import { collectLines, freePort, startApiReplicas } from "../support/replicas.ts";
import { isEvent, openSse, type SseFrame } from "../support/sse.ts";
import { startTarget } from "../support/target.ts";
import { groupEnv, startWorkers, type WorkerGroup } from "../support/workers.ts";

// GET /api/v1/runs/{id}/events (Bun API only): Server-Sent Events of a run's state, against the
// real stack: workers execute the runs and tell the API replicas over Redis pub/sub; replica A
// runs in this process, replica B as a process of its own on another port.
const HEARTBEAT_MS = 150;
const target = startTarget();
let api: TestApi;
let workers: WorkerGroup;
let replicaB: Subprocess<"ignore", "pipe", "pipe">;
let urlB: string;
let threeSteps: string;
let longWait: string;

beforeAll(async () => {
  api = await startApi({ sseHeartbeatMs: HEARTBEAT_MS, runEventsPollMs: 500 });
  workers = startWorkers(1, { ...groupEnv(api.config.runsTopic, unique("events-group")), EGRESS_ALLOW: "127.0.0.2" });
  const port = await freePort();
  urlB = `http://127.0.0.1:${port}`;
  // B's slow poll never comes within a test: what its streams get, they get over Redis pub/sub.
  replicaB = startApiReplicas(port, 1, { KAFKA_RUNS_TOPIC: api.config.runsTopic, LOG_LEVEL: "warn", RUN_EVENTS_POLL_MS: "600000" });
  const lines = collectLines(replicaB);
  await waitFor("replica B to listen", async () => (await fetch(`${urlB}/health`).catch(() => undefined))?.ok, 30_000).catch((err) => {
    throw new Error(`${err}\n${lines.join("\n")}`);
  });
  // http steps (a worker stores each one's end as it comes) that take a while, so that a stream
  // sees each step's change on its own.
  const slow = (name: string) => ({ name, type: "http", config: { method: "GET", url: `${target.url}/slow/events/300` } });
  threeSteps = await createWorkflow(api.url, {
    name: unique("events"),
    steps: [slow("first"), slow("second"), { name: "third", type: "transform", config: { output: { done: "{{input.tag}}" } } }],
  });
  longWait = await createWorkflow(api.url, {
    name: unique("events-wait"),
    steps: [{ name: "wait", type: "delay", config: { ms: 60_000 } }],
  });
}, 60_000);
afterAll(async () => {
  await workers?.stopAll();
  replicaB?.kill("SIGTERM");
  await replicaB?.exited;
  await api.stop();
  target.stop();
});

const eventsUrl = (base: string, runId: string) => `${base}/api/v1/runs/${runId}/events`;
type Ev = { id: string; event: string; data: Record<string, unknown> };
const events = (frames: SseFrame[]) => frames.filter(isEvent) as Ev[];
/** The state a stream's events leave a client with: the last `run` event and each step's last event. */
const finalView = (evs: Ev[]) => {
  const steps = new Map<string, Record<string, unknown>>();
  let run: Record<string, unknown> | undefined;
  for (const e of evs) {
    if (e.event === "run") run = e.data;
    else steps.set(e.data.name as string, e.data);
  }
  return { run, steps: [...steps.values()].sort((a, b) => (a.index as number) - (b.index as number)) };
};
/** GET /runs/{id} as the events show it: the run without steps, each step with its index. */
const stored = async (base: string, runId: string) => {
  const r = await call(base, "GET", `/api/v1/runs/${runId}`);
  expect(r.status).toBe(200);
  const { steps, input: _input, ...run } = r.body;
  return { run, steps: (steps as Record<string, unknown>[]).map((s, index) => ({ index, ...s })) };
};

describe("GET /api/v1/runs/{id}/events", () => {
  test("a 3-step run from its trigger to its end: every step's events in order, the terminal run event last, then the end", async () => {
    const runId = await triggerRun(api.url, { workflow_id: threeSteps, input: { tag: "a" } });
    const s = await openSse(eventsUrl(api.url, runId));
    expect(s.status).toBe(200);
    expect(s.headers.get("content-type")).toStartWith("text/event-stream");
    expect(s.headers.get("x-accel-buffering")).toBe("no");
    expect(s.headers.get("cache-control")).toContain("no-cache");
    await s.ended;
    expect(s.closedByServer).toBe(true);
    const evs = events(s.frames);
    // The last event is the terminal run event, and it is the only terminal one.
    expect(evs.at(-1)).toMatchObject({ event: "run", data: { id: runId, status: "completed", output: { done: "a" } } });
    expect(evs.filter((e) => e.event === "run" && e.data.status === "completed")).toHaveLength(1);
    expect(evs.at(-1)!.data).not.toHaveProperty("steps");
    // Each step ends completed, the steps in their order, and a step's events never go back.
    const completedAt = ["first", "second", "third"].map((name) =>
      evs.findIndex((e) => e.event === "step" && e.data.name === name && e.data.status === "completed"),
    );
    expect(completedAt.every((i) => i >= 0)).toBe(true);
    expect([...completedAt].sort((a, b) => a - b)).toEqual(completedAt);
    for (const name of ["first", "second"]) {
      const statuses = evs.filter((e) => e.event === "step" && e.data.name === name).map((e) => e.data.status);
      expect(statuses.at(-1)).toBe("completed");
      expect(statuses.indexOf("completed")).toBe(statuses.length - 1);
    }
    expect(evs.filter((e) => e.event === "step").map((e) => e.data.index)).toEqual(
      evs.filter((e) => e.event === "step").map((e) => ["first", "second", "third"].indexOf(e.data.name as string)),
    );
    // The run went through running (seen live: the stream opened while it was pending or running).
    expect(evs.some((e) => e.event === "run" && e.data.status === "running")).toBe(true);
    // No state twice, every id distinct, and what the client ends with is the run as stored.
    expect(new Set(evs.map((e) => `${e.event}:${JSON.stringify(e.data)}`)).size).toBe(evs.length);
    expect(new Set(evs.map((e) => e.id)).size).toBe(evs.length);
    expect(finalView(evs)).toEqual(await stored(api.url, runId));
  });

  test("connecting after the run finished gives its final state, steps first, and ends; resuming from the end is a 204", async () => {
    const runId = await triggerRun(api.url, { workflow_id: threeSteps, input: { tag: "b" } });
    await waitFor("the run to complete", async () => (await call(api.url, "GET", `/api/v1/runs/${runId}`)).body.status === "completed");
    const s = await openSse(eventsUrl(api.url, runId));
    await s.ended;
    expect(s.closedByServer).toBe(true);
    const evs = events(s.frames);
    expect(evs.map((e) => [e.event, e.data.name ?? e.data.status])).toEqual([
      ["step", "first"],
      ["step", "second"],
      ["step", "third"],
      ["run", "completed"],
    ]);
    expect(finalView(evs)).toEqual(await stored(api.url, runId));
    const again = await openSse(eventsUrl(api.url, runId), { "last-event-id": evs.at(-1)!.id });
    expect(again.status).toBe(204);
  });

  test("Last-Event-ID resumes mid-run: nothing the client had comes again, nothing it lacked is missed", async () => {
    const runId = await triggerRun(api.url, { workflow_id: threeSteps, input: { tag: "c" } });
    const first = await openSse(eventsUrl(api.url, runId));
    await first.waitFor((f) => events(f).some((e) => e.event === "step" && e.data.name === "first" && e.data.status === "completed"));
    first.close();
    const had = events(first.frames);
    // Away while the second step runs and completes.
    await Bun.sleep(450);
    const resumed = await openSse(eventsUrl(api.url, runId), { "last-event-id": had.at(-1)!.id });
    expect(resumed.status).toBe(200);
    await resumed.ended;
    expect(resumed.closedByServer).toBe(true);
    const got = events(resumed.frames);
    const key = (e: Ev) => `${e.event}:${JSON.stringify(e.data)}`;
    const before = new Set(had.map(key));
    expect(got.filter((e) => before.has(key(e)))).toEqual([]);
    // It had the first step's end, not the second's: that one comes now.
    expect(had.some((e) => e.data.name === "second" && e.data.status === "completed")).toBe(false);
    expect(got.some((e) => e.data.name === "second" && e.data.status === "completed")).toBe(true);
    expect(got.at(-1)).toMatchObject({ event: "run", data: { status: "completed" } });
    // What the client holds after both is exactly the run as stored.
    expect(finalView([...had, ...got])).toEqual(await stored(api.url, runId));
    // The query parameter does the same for clients that cannot send the header.
    const viaQuery = await openSse(`${eventsUrl(api.url, runId)}?last_event_id=${encodeURIComponent(had.at(-1)!.id)}`);
    await viaQuery.ended;
    expect(events(viaQuery.frames).filter((e) => before.has(key(e)))).toEqual([]);
    expect(finalView([...had, ...events(viaQuery.frames)])).toEqual(await stored(api.url, runId));
  });

  test("a client of replica A sees every step of a run triggered through replica B and executed by a worker", async () => {
    const runId = await triggerRun(urlB, { workflow_id: threeSteps, input: { tag: "d" } });
    const s = await openSse(eventsUrl(api.url, runId));
    await s.ended;
    const evs = events(s.frames);
    for (const name of ["first", "second", "third"])
      expect(evs.some((e) => e.event === "step" && e.data.name === name && e.data.status === "completed")).toBe(true);
    expect(evs.at(-1)).toMatchObject({ event: "run", data: { status: "completed", output: { done: "d" } } });
    expect(finalView(evs)).toEqual(await stored(urlB, runId));
    // And the other way round: a stream on B (no slow poll) follows a run triggered through A, live.
    const other = await triggerRun(api.url, { workflow_id: threeSteps, input: { tag: "e" } });
    const onB = await openSse(eventsUrl(urlB, other));
    await onB.waitFor((f) => events(f).some((e) => e.data.name === "first" && e.data.status === "completed"), 10_000);
    await onB.ended;
    const evsB = events(onB.frames);
    expect(evsB.at(-1)).toMatchObject({ event: "run", data: { status: "completed", output: { done: "e" } } });
    expect(finalView(evsB)).toEqual(await stored(api.url, other));
  });

  test("heartbeats arrive on an idle stream; a cancel shows as a cancelled run event and ends the stream", async () => {
    const runId = await triggerRun(api.url, { workflow_id: longWait });
    const s = await openSse(eventsUrl(api.url, runId));
    await s.waitFor((f) => events(f).some((e) => e.event === "step" && e.data.status === "waiting"));
    const pings = s.frames.filter((f) => "comment" in f).length;
    await s.waitFor((f) => f.filter((x) => "comment" in x && x.comment === "ping").length >= pings + 3, 5_000);
    const r = await call(urlB, "POST", `/api/v1/runs/${runId}/cancel`);
    expect(r.status).toBe(200);
    await s.ended;
    expect(s.closedByServer).toBe(true);
    const evs = events(s.frames);
    expect(evs.at(-1)).toMatchObject({ event: "run", data: { id: runId, status: "cancelled", error: "cancelled by request" } });
  });

  test("a cancel of a run in the middle of a step: the step's end as its worker records it, then the cancelled run, last", async () => {
    const wf = await createWorkflow(api.url, {
      name: unique("events-cancel"),
      steps: [{ name: "slow", type: "http", config: { method: "GET", url: `${target.url}/slow/events-cancel/5000`, timeout_ms: 10_000 } }],
    });
    const runId = await triggerRun(api.url, { workflow_id: wf });
    const s = await openSse(eventsUrl(api.url, runId));
    await s.waitFor((f) => events(f).some((e) => e.event === "run" && e.data.status === "running"));
    await waitFor("the step to be in flight", async () => (target.inFlight.get("events-cancel")?.now ?? 0) > 0, 5_000, 20);
    expect((await call(api.url, "POST", `/api/v1/runs/${runId}/cancel`)).status).toBe(200);
    await s.ended;
    const evs = events(s.frames);
    expect(evs.at(-1)).toMatchObject({ event: "run", data: { status: "cancelled" } });
    expect(evs.at(-2)).toMatchObject({ event: "step", data: { name: "slow", status: "cancelled" } });
    expect(finalView(evs)).toEqual(await stored(api.url, runId));
  });

  test("one subscriber connection per process: a run's channel is subscribed while it has streams, and dropped with the last", async () => {
    const runId = await triggerRun(api.url, { workflow_id: threeSteps, delay_ms: 3_600_000 });
    const redis = new Bun.RedisClient(api.config.redisUrl);
    const subscribers = async () => {
      const [, n] = (await redis.send("PUBSUB", ["NUMSUB", `wf:run-changed:${runId}`])) as [string, number];
      return n;
    };
    const clients = await Promise.all(Array.from({ length: 5 }, () => openSse(eventsUrl(api.url, runId))));
    await Promise.all(clients.map((c) => c.waitFor((f) => events(f).length > 0)));
    expect(await subscribers()).toBe(1);
    for (const c of clients.slice(1)) c.close();
    await waitFor("four streams to be forgotten", async () => api.services.runEvents.open === 1, 5_000);
    expect(await subscribers()).toBe(1);
    clients[0]!.close();
    await waitFor("the channel to be dropped", async () => (await subscribers()) === 0, 5_000);
    redis.close();
  });

  test("a worker whose Redis is unreachable still runs and stores everything, unslowed; the stream gets it by the slow poll", async () => {
    const runId = await triggerRun(api.url, { workflow_id: threeSteps, delay_ms: 3_600_000 });
    // Made due without a message: no worker of the group takes it, the test's store does.
    await api.services.sql`UPDATE runs SET wake_at = NULL WHERE id = ${runId}::uuid`;
    const changes = new RunChanges(createRedis({ ...api.config, redisUrl: "redis://127.0.0.1:1" }));
    const store = new ExecutionStore(api.services.sql, `test:${unique("owner")}`, 30_000, changes);
    const s = await openSse(eventsUrl(api.url, runId));
    await s.waitFor((f) => events(f).some((e) => e.event === "run" && e.data.status === "pending"));
    const t0 = performance.now();
    expect("why" in (await store.claim(runId))).toBe(false);
    const steps = [
      {
        name: "first",
        status: "completed" as const,
        attempts: 1,
        started_at: new Date().toISOString(),
        finished_at: new Date().toISOString(),
      },
    ];
    expect(await store.checkpoint(runId, steps)).toBe(true);
    expect(await store.finish(runId, "completed", steps, { by: "hand" }, null)).toBeDefined();
    // Three writes and their publishes: the publishes fail at once, they are never waited for.
    expect(performance.now() - t0).toBeLessThan(1_000);
    await waitFor("the failed publishes to be counted", async () => changes.stats.errors >= 3, 5_000);
    await s.ended;
    expect(events(s.frames).at(-1)).toMatchObject({ event: "run", data: { status: "completed", output: { by: "hand" } } });
    changes.close();
  });

  test("a change that no message told of reaches the stream by the slow poll", async () => {
    const runId = await triggerRun(api.url, { workflow_id: threeSteps, delay_ms: 3_600_000 });
    const s = await openSse(eventsUrl(api.url, runId));
    await s.waitFor((f) => events(f).some((e) => e.event === "run" && e.data.status === "pending"));
    // Written behind the service's back: nothing is published.
    await api.services.sql`
      UPDATE runs SET status = 'cancelled', finished_at = now(), updated_at = now(), error = 'by hand', wake_at = NULL
      WHERE id = ${runId}::uuid`;
    await s.ended;
    expect(events(s.frames).at(-1)).toMatchObject({ event: "run", data: { status: "cancelled", error: "by hand" } });
  });

  test("an unknown run is a 404 problem before any stream; an id the stream did not send is a 400", async () => {
    const unknown = await call(api.url, "GET", "/api/v1/runs/0190b3a2-0000-7000-8000-000000000000/events");
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toContain("application/problem+json");
    expect((await call(api.url, "GET", "/api/v1/runs/not-a-uuid/events")).status).toBe(404);
    const runId = await triggerRun(api.url, { workflow_id: threeSteps, delay_ms: 3_600_000 });
    const bad = await call(api.url, "GET", `/api/v1/runs/${runId}/events?last_event_id=${encodeURIComponent("not an id")}`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toContain("application/problem+json");
  });

  test("the OpenAPI document describes the 200 as text/event-stream", async () => {
    const doc = (await call(api.url, "GET", "/swagger/json")).body;
    const op = doc.paths["/api/v1/runs/{id}/events"].get;
    expect(Object.keys(op.responses["200"].content)).toEqual(["text/event-stream"]);
    expect(op["x-required-scope"]).toBe("runs:read");
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["200", "204", "400", "404"]));
  });
});

describe("the events' Redis subscriber", () => {
  test("after Redis restarts it subscribes its channels again and asks for a re-read (messages of the gap are lost)", async () => {
    // A Redis of the test's own, restarted on the same port: the stack's is shared with other tests.
    const port = await freePort();
    const startRedis = () =>
      Bun.spawn(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
        stdout: "ignore",
        stderr: "ignore",
      });
    let redis = startRedis();
    const url = `redis://127.0.0.1:${port}`;
    const channel = runChannel("0190b3a2-0000-7000-8000-00000000abcd");
    const got: string[] = [];
    let readies = 0;
    const sub = new ChannelSubscriber(url, { message: (c) => got.push(c), ready: () => readies++ });
    const changes = new RunChanges(createRedis({ ...api.config, redisUrl: url }));
    try {
      sub.add(channel);
      await waitFor("the subscriber to connect", async () => readies === 1, 10_000, 20);
      const received = () =>
        waitFor(
          "a message on the channel",
          async () => {
            changes.changed("0190b3a2-0000-7000-8000-00000000abcd");
            await Bun.sleep(50);
            return got.includes(channel);
          },
          10_000,
          0,
        );
      await received();
      redis.kill();
      await redis.exited;
      redis = startRedis();
      await waitFor("the subscriber to come back", async () => readies === 2, 15_000, 50);
      got.length = 0;
      await received();
    } finally {
      sub.close();
      changes.close();
      redis.kill();
      await redis.exited;
    }
  });
});
