import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newId } from "@wf/core/ids";
import { ScheduleTicker } from "@wf/services/schedules/ticker";
import { call, startApi, type TestApi, unique, waitFor } from "../support/api.ts";

// Schedules (/api/v1/schedules, Bun API only) and the ticker that starts their runs
// (ScheduleTicker, run here in-process; the workers run one each), against the real PostgreSQL and
// Kafka. No worker runs: a tick's run stays pending, and each schedule is put in the state a test
// needs by SQL (its next tick moved into the past rather than waiting for it).
const MAX_INPUT = 256;
let api: TestApi;
let workflowId: string;
const tickers: ScheduleTicker[] = [];
const lags: number[] = [];
const ticker = (misfireMs = 5000) => {
  const t = new ScheduleTicker(
    api.services.sql,
    api.services.publisher,
    api.services.log,
    { topic: api.config.runsTopic, pollMs: 50, misfireMs, batchSize: 100 },
    (s) => lags.push(s),
  );
  tickers.push(t);
  return t;
};

beforeAll(async () => {
  api = await startApi({ triggerMaxInputBytes: MAX_INPUT });
  workflowId = await newWorkflow();
});
afterAll(async () => {
  for (const t of tickers) await t.stop();
  // A schedule left behind would be taken by no ticker (its topic is this file's), but say so anyway.
  await api.services.sql`UPDATE schedules SET enabled = false, next_run_at = NULL WHERE topic = ${api.config.runsTopic}`;
  await api.stop();
});

async function newWorkflow(): Promise<string> {
  const r = await call(api.url, "POST", "/api/v1/workflows", {
    name: unique("scheduled"),
    steps: [{ name: "only", type: "transform", config: { output: { at: "{{input.at}}" } } }],
  });
  expect(r.status).toBe(201);
  return r.body.id;
}

const create = async (body: Record<string, unknown>) => {
  const r = await call(api.url, "POST", "/api/v1/schedules", { workflow_id: workflowId, ...body });
  expect(r.status).toBe(201);
  return r.body;
};

type Run = { id: string; idempotency_key: string; schedule_id: string; status: string; input: unknown; created_at: Date };
const runsOf = async (scheduleId: string): Promise<Run[]> => [
  ...(await api.services.sql<Run[]>`
    SELECT id::text, idempotency_key, schedule_id::text, status, input, created_at FROM runs
    WHERE schedule_id = ${scheduleId}::uuid ORDER BY idempotency_key`),
];
type Row = { next_run_at: Date | null; last_tick_at: Date | null; last_run_id: string | null; last_error: string | null; now: Date };
const row = async (id: string) =>
  (
    await api.services.sql<Row[]>`
    SELECT next_run_at, last_tick_at, last_run_id::text, last_error, now() AS now FROM schedules WHERE id = ${id}::uuid`
  )[0]!;
/** Moves the schedule's next tick `seconds` into the past, on the database's clock, to a whole second. */
const dueSince = (id: string, seconds: number) =>
  api.services
    .sql`UPDATE schedules SET next_run_at = date_trunc('second', now()) - make_interval(secs => ${seconds}) WHERE id = ${id}::uuid`;
/** The tick in a run's key, schedule:<id>:<tick>. */
const tickOf = (key: string) => key.split(":").slice(2).join(":");

describe("the schedules API", () => {
  test("create: 201 with the defaults, the zone as the database spells it, and next_run_at the first tick after now", async () => {
    const before = Date.now();
    const s = await create({ cron: "*/10 * * * * *", timezone: "europe/berlin", input: { at: "x" } });
    expect(s).toEqual({
      id: expect.any(String),
      workflow_id: workflowId,
      cron: "*/10 * * * * *",
      timezone: "Europe/Berlin",
      input: { at: "x" },
      enabled: true,
      overlap: "allow",
      next_run_at: expect.any(String),
      last_tick_at: null,
      last_run_id: null,
      last_error: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const next = Date.parse(s.next_run_at);
    expect(next % 10_000).toBe(0);
    expect(next).toBeGreaterThan(before);
    expect(next).toBeLessThanOrEqual(Date.now() + 10_000);
    expect((await call(api.url, "GET", `/api/v1/schedules/${s.id}`)).body).toEqual(s);
  });

  test("a disabled schedule has no next tick", async () => {
    const s = await create({ cron: "30 2 * * *", timezone: "America/New_York", enabled: false });
    expect([s.next_run_at, s.enabled]).toEqual([null, false]);
  });

  test("422 with the field's path: a bad expression, a bad zone, a date that never comes, a big input, an unknown workflow", async () => {
    const post = (body: Record<string, unknown>) =>
      call(api.url, "POST", "/api/v1/schedules", { workflow_id: workflowId, cron: "* * * * *", ...body });
    const cases: [Record<string, unknown>, string][] = [
      [{ cron: "61 * * * *" }, "/cron"],
      [{ cron: "* * *" }, "/cron"],
      [{ cron: "0 0 31 2 *" }, "/cron"],
      [{ timezone: "Mars/Olympus" }, "/timezone"],
      [{ timezone: "+02:00" }, "/timezone"],
      [{ input: { s: "x".repeat(MAX_INPUT) } }, "/input"],
      [{ workflow_id: newId() }, "/workflow_id"],
      [{ overlap: "queue" }, "/overlap"],
      [{ cron: "" }, "/cron"],
      [{ every: "day" }, "/every"],
    ];
    for (const [body, path] of cases) {
      const r = await post(body);
      expect({ body, status: r.status, type: r.headers.get("content-type") }).toEqual({
        body,
        status: 422,
        type: "application/problem+json",
      });
      expect({ body, paths: r.body.errors.map((e: { path: string }) => e.path) }).toEqual({ body, paths: expect.arrayContaining([path]) });
    }
    const bad = await post({ cron: "61 * * * *" });
    expect(bad.body.errors).toEqual([{ path: "/cron", message: "invalid cron expression: Invalid value for minute: 61" }]);
  });

  test("404 for an unknown or malformed id, on every method", async () => {
    for (const id of [newId(), "nope"]) {
      expect((await call(api.url, "GET", `/api/v1/schedules/${id}`)).status).toBe(404);
      expect((await call(api.url, "PUT", `/api/v1/schedules/${id}`, { workflow_id: workflowId, cron: "* * * * *" })).status).toBe(404);
      expect((await call(api.url, "DELETE", `/api/v1/schedules/${id}`)).status).toBe(404);
    }
  });

  test("list: newest first, keyset pages with a signed cursor", async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await create({ cron: "0 0 * * *", enabled: false })).id);
    const first = await call(api.url, "GET", "/api/v1/schedules?limit=2");
    expect(first.body.items.map((s: { id: string }) => s.id)).toEqual([ids[2], ids[1]]);
    const second = await call(api.url, "GET", `/api/v1/schedules?limit=2&cursor=${encodeURIComponent(first.body.next_cursor)}`);
    expect(second.body.items[0].id).toBe(ids[0]);
    const tampered = await call(api.url, "GET", `/api/v1/schedules?limit=2&cursor=${first.body.next_cursor.slice(0, -2)}xx`);
    expect(tampered.status).toBe(400);
  });

  test("replace: the next tick stays when only the input or overlap changes; a new expression, or enabling again, starts from now", async () => {
    const s = await create({ cron: "0 0 1 1 *" });
    const put = (body: Record<string, unknown>) => call(api.url, "PUT", `/api/v1/schedules/${s.id}`, { workflow_id: workflowId, ...body });
    await dueSince(s.id, 30); // a tick due and not yet started stays due
    const due = (await row(s.id)).next_run_at!.toISOString();
    const same = await put({ cron: "0 0 1 1 *", input: { at: "y" }, overlap: "skip" });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ input: { at: "y" }, overlap: "skip", next_run_at: due, created_at: s.created_at });
    const disabled = await put({ cron: "0 0 1 1 *", enabled: false });
    expect(disabled.body).toMatchObject({ enabled: false, next_run_at: null, input: {}, overlap: "allow" });
    const again = await put({ cron: "0 0 1 1 *" });
    expect(Date.parse(again.body.next_run_at)).toBeGreaterThan(Date.now());
    const hourly = await put({ cron: "0 * * * *", timezone: "Asia/Kolkata" });
    expect(new Date(hourly.body.next_run_at).getUTCMinutes()).toBe(30);
    const unknown = await put({ cron: "0 * * * *", workflow_id: newId() });
    expect([unknown.status, unknown.body.errors[0].path]).toEqual([422, "/workflow_id"]);
    const invalid = await put({ cron: "0 * * *" });
    expect([invalid.status, invalid.body.errors[0].path]).toEqual([422, "/cron"]);
  });

  test("delete: 204, then 404; no tick of it starts anything", async () => {
    const s = await create({ cron: "* * * * * *" });
    expect((await call(api.url, "DELETE", `/api/v1/schedules/${s.id}`)).status).toBe(204);
    expect((await call(api.url, "GET", `/api/v1/schedules/${s.id}`)).status).toBe(404);
    await ticker().runOnce();
    expect(await runsOf(s.id)).toEqual([]);
  });
});

describe("the ticker", () => {
  test("every tick at most SCHEDULE_MISFIRE_MS late starts its own run, keyed schedule:<id>:<tick>, with schedule_id; next_run_at moves past now", async () => {
    const s = await create({ cron: "* * * * * *", input: { at: "tick" } });
    await dueSince(s.id, 3);
    const { next_run_at: from } = await row(s.id);
    expect(await ticker().runOnce()).toBeGreaterThanOrEqual(1);
    const after = await row(s.id);
    const runs = await runsOf(s.id);
    // One run per second from the stored tick up to the new next tick, excluded.
    const expected = [];
    for (let t = from!.getTime(); t < after.next_run_at!.getTime(); t += 1000)
      expected.push(`schedule:${s.id}:${new Date(t).toISOString()}`);
    expect(expected.length).toBeGreaterThanOrEqual(4);
    expect(runs.map((r) => r.idempotency_key)).toEqual(expected);
    expect(after.next_run_at!.getTime()).toBeGreaterThan(after.now.getTime() - 1000);
    expect(runs.every((r) => r.schedule_id === s.id && r.status === "pending")).toBe(true);
    expect(runs[0]!.input).toEqual({ at: "tick" });
    expect(after).toMatchObject({
      last_run_id: runs.at(-1)!.id,
      last_error: null,
      last_tick_at: new Date(tickOf(runs.at(-1)!.idempotency_key)),
    });
    // The run's creation is on the database's clock: its lag is creation minus tick.
    const oldest = runs[0]!;
    expect(oldest.created_at.getTime() - Date.parse(tickOf(oldest.idempotency_key))).toBeGreaterThanOrEqual(3000);
    // The API shows the run's schedule; its message was published, so no outbox row is left.
    const shown = await call(api.url, "GET", `/api/v1/runs/${oldest.id}`);
    expect(shown.body).toMatchObject({ id: oldest.id, schedule_id: s.id, status: "pending" });
    // By the ticker at once, or (a publish slower than KAFKA_PUBLISH_TIMEOUT_MS) by the API's relay.
    await waitFor(
      "no outbox row left for the tick's runs",
      async () =>
        (await api.services.sql`SELECT 1 FROM outbox WHERE key = ANY(${`{${runs.map((r) => r.id).join(",")}}`}::text[])`).length === 0,
      // The relay waits OUTBOX_GRACE_MS (30 s) before it republishes a row.
      60_000,
      100,
    );
  });

  test("ticks missed for longer than the window start ONE run together, for the latest of them; its lag says how long", async () => {
    // Daily, down for three days: one run, for the latest midnight (UTC).
    const s = await create({ cron: "0 0 * * *" });
    await dueSince(s.id, 3 * 86_400);
    lags.length = 0;
    await ticker(5000).runOnce();
    const runs = await runsOf(s.id);
    expect(runs.length).toBe(1);
    const { now, next_run_at } = await row(s.id);
    const midnight = new Date(now);
    midnight.setUTCHours(0, 0, 0, 0);
    expect(tickOf(runs[0]!.idempotency_key)).toBe(midnight.toISOString());
    expect(next_run_at!.getTime()).toBe(midnight.getTime() + 86_400_000);
    expect(lags).toEqual([(runs[0]!.created_at.getTime() - midnight.getTime()) / 1000]);
  });

  test("tickers racing over the same due schedules start each tick once, whatever their number", async () => {
    const ids = [];
    for (let i = 0; i < 12; i++) ids.push((await create({ cron: "* * * * * *" })).id);
    await api.services.sql`
      UPDATE schedules SET next_run_at = date_trunc('second', now()) - interval '4 seconds' WHERE id = ANY(${`{${ids.join(",")}}`}::uuid[])`;
    const racers = Array.from({ length: 4 }, () => ticker());
    await Promise.all(racers.flatMap((t) => [t.runOnce(), Bun.sleep(5).then(() => t.runOnce())]));
    for (const id of ids) {
      const keys = (await runsOf(id)).map((r) => r.idempotency_key);
      const next = (await row(id)).next_run_at!.getTime();
      const ticks = keys.map((k) => Date.parse(tickOf(k)));
      expect(new Set(keys).size).toBe(keys.length);
      // consecutive seconds, none missing, up to the next tick
      for (let i = 1; i < ticks.length; i++) expect(ticks[i]! - ticks[i - 1]!).toBe(1000);
      expect(ticks.at(-1)).toBe(next - 1000);
      expect(ticks.length).toBeGreaterThanOrEqual(5);
    }
  });

  test("a schedule another transaction holds is skipped (SKIP LOCKED); once that one rolls back, as a killed ticker's does, its ticks start", async () => {
    const s = await create({ cron: "* * * * * *" });
    await dueSince(s.id, 1);
    const t = ticker();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = api.services.sql
      .begin(async (tx) => {
        await tx`SELECT 1 FROM schedules WHERE id = ${s.id}::uuid FOR UPDATE`;
        locked();
        await held;
        throw new Error("rolled back");
      })
      .catch(() => {});
    await isLocked;
    await t.runOnce();
    expect(await runsOf(s.id)).toEqual([]);
    release();
    await holder;
    await t.runOnce();
    expect((await runsOf(s.id)).length).toBeGreaterThanOrEqual(2);
  });

  test("overlap skip: no run while the previous one is unfinished (last_error says why); once it is over, the next tick starts one", async () => {
    const s = await create({ cron: "* * * * * *", overlap: "skip" });
    await dueSince(s.id, 3);
    const t = ticker();
    await t.runOnce();
    // several ticks were due: the first started a run, the others overlapped it
    const first = await runsOf(s.id);
    expect(first.length).toBe(1);
    expect((await row(s.id)).last_error).toBe(
      `the tick of ${(await row(s.id)).last_tick_at!.toISOString()} started no run: run ${first[0]!.id} is not finished (overlap: skip)`,
    );
    const skipped = t.stats.skippedOverlap;
    expect(skipped).toBeGreaterThanOrEqual(2);
    await dueSince(s.id, 1);
    await t.runOnce();
    expect((await runsOf(s.id)).length).toBe(1);
    expect(t.stats.skippedOverlap).toBeGreaterThan(skipped);
    await api.services.sql`UPDATE runs SET status = 'completed', finished_at = now() WHERE id = ${first[0]!.id}::uuid`;
    await dueSince(s.id, 0);
    await t.runOnce();
    const after = await runsOf(s.id);
    expect(after.length).toBe(2);
    expect(await row(s.id)).toMatchObject({ last_error: null, last_run_id: after.find((r) => r.id !== first[0]!.id)!.id });
  });

  test("a deleted workflow: the tick starts nothing, last_error says why, and the schedule moves on", async () => {
    const wf = await newWorkflow();
    const s = await create({ cron: "* * * * * *", workflow_id: wf });
    expect((await call(api.url, "DELETE", `/api/v1/workflows/${wf}`)).status).toBe(204);
    await dueSince(s.id, 0);
    const t = ticker();
    await t.runOnce();
    expect(await runsOf(s.id)).toEqual([]);
    const r = await row(s.id);
    expect(r.last_error).toBe(`the tick of ${r.last_tick_at!.toISOString()} started no run: workflow ${wf} does not exist`);
    expect(r.next_run_at!.getTime()).toBeGreaterThan(r.now.getTime() - 1000);
    expect(t.stats.skippedNoWorkflow).toBeGreaterThanOrEqual(1);
    expect((await call(api.url, "GET", `/api/v1/schedules/${s.id}`)).body.last_error).toBe(r.last_error);
  });

  test("a tick whose run exists already (its key taken) starts no second one; that run is the tick's", async () => {
    const s = await create({ cron: "* * * * * *" });
    await dueSince(s.id, 0);
    const tick = (await row(s.id)).next_run_at!;
    const trigger = await call(api.url, "POST", "/api/v1/trigger", {
      workflow_id: workflowId,
      idempotency_key: `schedule:${s.id}:${tick.toISOString()}`,
    });
    expect(trigger.status).toBe(202);
    await api.services.sql`UPDATE schedules SET next_run_at = ${tick} WHERE id = ${s.id}::uuid`;
    await ticker(0).runOnce();
    const keyed = await api.services.sql<{ id: string }[]>`
      SELECT id::text FROM runs WHERE idempotency_key = ${`schedule:${s.id}:${tick.toISOString()}`}`;
    expect(keyed.map((r) => r.id)).toEqual([trigger.body.run_id]);
  });

  test("disabled schedules, and schedules of another topic, are not taken", async () => {
    const off = await create({ cron: "* * * * * *", enabled: false });
    const other = await create({ cron: "* * * * * *" });
    await api.services.sql`UPDATE schedules SET next_run_at = now() - interval '2 seconds' WHERE id = ${off.id}::uuid`;
    await api.services
      .sql`UPDATE schedules SET next_run_at = now() - interval '2 seconds', topic = ${unique("elsewhere")} WHERE id = ${other.id}::uuid`;
    await ticker().runOnce();
    expect(await runsOf(off.id)).toEqual([]);
    expect(await runsOf(other.id)).toEqual([]);
    await api.services.sql`UPDATE schedules SET enabled = false, next_run_at = NULL WHERE id = ${other.id}::uuid`;
  });

  test("started by its loop, a ticker starts a every-second schedule's runs as the ticks come", async () => {
    const s = await create({ cron: "* * * * * *" });
    const t = ticker();
    t.start();
    await Bun.sleep(2600);
    await t.stop();
    const runs = await runsOf(s.id);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs.length).toBeLessThanOrEqual(3);
    for (const r of runs) expect(r.created_at.getTime() - Date.parse(tickOf(r.idempotency_key))).toBeLessThan(1000);
  });
});
