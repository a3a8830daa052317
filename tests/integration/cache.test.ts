import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Cache } from "@wf/platform/cache";
import Redis from "ioredis";
import { call, metricSample, sampleWorkflow, startApi, type TestApi, waitFor } from "../support/api.ts";
import { stack } from "../support/stack.ts";

let api: TestApi;
let redis: Redis;
beforeAll(async () => {
  api = await startApi();
  redis = new Redis(api.config.redisUrl);
});
afterAll(async () => {
  redis.disconnect();
  await api.stop();
});

const wfKey = (id: string) => `wf:workflow:${id}`;
const runKey = (id: string) => `wf:run:${id}`;

describe("Redis cache", () => {
  test("a created workflow is in Redis with the workflow TTL; replace rewrites it; delete drops it", async () => {
    const wf = (await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow())).body;
    expect(JSON.parse((await redis.get(wfKey(wf.id)))!)).toEqual(wf);
    const ttl = await redis.ttl(wfKey(wf.id));
    expect(ttl).toBeGreaterThan(api.config.workflowCacheTtlS - 5);
    expect(ttl).toBeLessThanOrEqual(api.config.workflowCacheTtlS);

    const v2 = (await call(api.url, "PUT", `/api/v1/workflows/${wf.id}`, sampleWorkflow("v2"))).body;
    expect(JSON.parse((await redis.get(wfKey(wf.id)))!)).toEqual(v2);

    await call(api.url, "DELETE", `/api/v1/workflows/${wf.id}`);
    // The key now marks the workflow deleted (see "cache-aside reads" below): no copy is served.
    const marker = String(await redis.get(wfKey(wf.id)));
    expect(() => JSON.parse(marker)).toThrow();
    expect((await call(api.url, "GET", `/api/v1/workflows/${wf.id}`)).status).toBe(404);
    expect((await call(api.url, "POST", "/api/v1/trigger", { workflow_id: wf.id })).status).toBe(404);
  });

  test("a read after the entry expired refills it (cache-aside)", async () => {
    const wf = (await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow())).body;
    await redis.del(wfKey(wf.id));
    expect((await call(api.url, "GET", `/api/v1/workflows/${wf.id}`)).body).toEqual(wf);
    expect(await redis.exists(wfKey(wf.id))).toBe(1);
  });

  test("a triggered run is cached with the run TTL and replaced when its status changes", async () => {
    const wf = (await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow())).body;
    const { run_id } = (await call(api.url, "POST", "/api/v1/trigger", { workflow_id: wf.id })).body;
    expect(JSON.parse((await redis.get(runKey(run_id)))!).status).toBe("pending");
    expect(await redis.ttl(runKey(run_id))).toBeLessThanOrEqual(api.config.runCacheTtlS);
    await call(api.url, "POST", `/api/v1/runs/${run_id}/cancel`);
    expect(JSON.parse((await redis.get(runKey(run_id)))!).status).toBe("cancelled");
    expect((await call(api.url, "GET", `/api/v1/runs/${run_id}`)).body.status).toBe("cancelled");
  });

  test("with Redis stopped the API answers from PostgreSQL and counts cache errors", async () => {
    const wf = (await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow())).body;
    const cacheErrors = async () => (await metricSample(api.url, "cache_operations_total", "result", "error")) ?? 0;
    const errorsBefore = await cacheErrors();
    await stack("down", "redis");
    try {
      for (let i = 0; i < 5; i++) {
        const got = await call(api.url, "GET", `/api/v1/workflows/${wf.id}`);
        expect(got.status).toBe(200);
        expect(got.body).toEqual(wf);
      }
      const created = await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow());
      expect(created.status).toBe(201);
      const t = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: created.body.id });
      expect(t.status).toBe(202);
      expect((await call(api.url, "GET", `/api/v1/runs/${t.body.run_id}`)).status).toBe(200);
      expect((await call(api.url, "GET", "/api/v1/runs?limit=5")).status).toBe(200);
      const ready = await call(api.url, "GET", "/health/ready");
      expect(ready.status).toBe(200);
      expect(ready.body.checks.redis).toBe("down");
      // Counted by the server, read where an operator reads it.
      expect(await cacheErrors()).toBeGreaterThan(errorsBefore);
    } finally {
      await stack("up", "redis");
    }
    await waitFor("the cache to work again", async () => {
      await call(api.url, "GET", `/api/v1/workflows/${wf.id}`);
      return (await redis.exists(wfKey(wf.id))) === 1;
    });
  });
});

describe("cache-aside reads cannot undo a newer write (real Redis)", () => {
  // A read that misses loads from PostgreSQL; if a replace, delete or finished run lands between
  // that load and the refill, the refill must not put the older copy back for a whole TTL.
  let cache: Cache;
  beforeAll(async () => {
    cache = new Cache(api.config);
    // Commands are not queued while the connection is still opening: they would fail as misses.
    await waitFor("the cache's connection", () => cache.ping());
  });
  afterAll(() => cache.close());

  /** A load that answers `value` only once `release` is called, as a slow database read would. */
  const slowLoad = <T>(value: T) => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const load = async () => {
      calls++;
      await gate;
      return value;
    };
    return { load, release: () => release(), calls: () => calls };
  };
  const key = () => `wf:test:${crypto.randomUUID()}`;

  test("a miss fills the key; the next read is served from it without loading", async () => {
    const k = key();
    const first = slowLoad({ v: 1 });
    first.release();
    expect(await cache.readThrough(k, 60, first.load)).toEqual({ v: 1 });
    const second = slowLoad({ v: 2 });
    second.release(); // a wrong load answers at once, and the count below catches it
    expect(await cache.readThrough(k, 60, second.load)).toEqual({ v: 1 });
    expect(second.calls()).toBe(0);
    expect(await redis.ttl(k)).toBeGreaterThan(50);
  });

  test("a copy written while the read was loading is kept, not overwritten by the older one", async () => {
    const k = key();
    const old = slowLoad({ status: "running" });
    const reading = cache.readThrough(k, 60, old.load);
    await Bun.sleep(20);
    await cache.set(k, JSON.stringify({ status: "completed" }), 60);
    old.release();
    expect(await reading).toEqual({ status: "running" }); // what that read saw
    expect(JSON.parse((await redis.get(k))!)).toEqual({ status: "completed" });
  });

  test("a delete while the read was loading stays a delete: later reads find nothing and load nothing", async () => {
    const k = key();
    const old = slowLoad({ name: "deleted meanwhile" });
    const reading = cache.readThrough(k, 60, old.load);
    await Bun.sleep(20);
    await cache.forget(k, 60);
    old.release();
    await reading;
    const after = slowLoad({ name: "must not be loaded" });
    after.release();
    expect(await cache.readThrough(k, 60, after.load)).toBeUndefined();
    expect(after.calls()).toBe(0);
  });
});
