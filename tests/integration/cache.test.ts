import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { call, metricSample, sampleWorkflow, startApi, waitFor, type TestApi } from "../support/api.ts";
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
    expect(await redis.exists(wfKey(wf.id))).toBe(0);
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
