import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KeyStore } from "@wf/services/access";
import { call, sampleWorkflow, startApi, type TestApi, unique, waitFor } from "../support/api.ts";

// API keys on the server under test (Bun or Node): created and revoked in the real table, checked
// by every replica from its in-memory copy, rate-limited through the real Redis.
let api: TestApi;
let store: KeyStore;
let key: string;
let name: string;
const REFRESH_MS = 200;
beforeAll(async () => {
  api = await startApi({
    apiKeysRequired: true,
    apiKeysRefreshMs: REFRESH_MS,
    metricsRequireKey: true,
    rateLimitPerS: 2,
    rateLimitBurst: 5,
  });
  store = new KeyStore(api.services.sql);
  name = unique("key");
  key = (await store.create(name)).key;
  // a key created after start is picked up by the next refresh
  await waitFor("the new key to be accepted", async () => (await get("/api/v1/workflows?limit=1", key)).status === 200, 15_000, 50);
});
afterAll(async () => {
  await api.stop();
});

const get = (path: string, bearer?: string) => call(api.url, "GET", path, undefined, bearer ? { authorization: `Bearer ${bearer}` } : {});

describe("API keys", () => {
  test("no key, a malformed header or a wrong key: 401 problem+json with a bearer challenge", async () => {
    const wrong = `${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}`;
    const variants: Record<string, string>[] = [
      {},
      { authorization: key },
      { authorization: `Basic ${btoa("a:b")}` },
      { authorization: `Bearer ${wrong}` },
      { authorization: "Bearer " },
    ];
    for (const headers of variants) {
      const r = await call(api.url, "GET", "/api/v1/workflows", undefined, headers);
      expect({ headers, status: r.status }).toEqual({ headers, status: 401 });
      expect(r.headers.get("content-type")).toStartWith("application/problem+json");
      expect(r.headers.get("www-authenticate")).toStartWith("Bearer");
      expect(r.body).toMatchObject({ status: 401, title: "Unauthorized" });
    }
  });

  test("refused before the body is read or anything is stored", async () => {
    const wf = sampleWorkflow();
    const r = await call(api.url, "POST", "/api/v1/workflows", wf);
    expect(r.status).toBe(401);
    const rows = await api.services.sql`SELECT 1 FROM workflows WHERE name = ${wf.name}`;
    expect(rows.length).toBe(0);
  });

  test("the right key works on every /api/v1 route; /health, /health/ready, / and the docs stay open", async () => {
    const auth = { authorization: `Bearer ${key}` };
    const created = await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow(), auth);
    expect(created.status).toBe(201);
    expect((await get(`/api/v1/workflows/${created.body.id}`, key)).status).toBe(200);
    for (const path of ["/health", "/health/ready", "/", "/swagger/json"])
      expect({ path, s: (await get(path)).status }).toEqual({ path, s: 200 });
  });

  test("/metrics needs a key when METRICS_REQUIRE_KEY is set", async () => {
    expect((await get("/metrics")).status).toBe(401);
    expect((await get("/metrics", key)).status).toBe(200);
  });

  test("a revoked key is refused once the processes have reloaded the keys", async () => {
    const other = unique("revoked");
    const k = (await store.create(other)).key;
    await waitFor("the key to be accepted", async () => (await get("/api/v1/runs?limit=1", k)).status === 200, 15_000, 50);
    await store.revoke(other);
    await waitFor("the revoked key to be refused", async () => (await get("/api/v1/runs?limit=1", k)).status === 401, 15_000, 50);
    expect((await get("/api/v1/runs?limit=1", key)).status).toBe(200);
  });

  test("over its rate a key gets 429 with retry-after; other keys are not affected", async () => {
    const limited = unique("limited");
    const k = (await store.create(limited)).key;
    await waitFor(
      "the key to be accepted",
      async () => (await get("/health")).status === 200 && Bun.sleep(REFRESH_MS * 3).then(() => true),
      15_000,
    );
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 12; i++) {
      const r = await get("/api/v1/workflows?limit=1", k);
      statuses.push(r.status);
      if (r.status === 429) {
        retryAfter = r.headers.get("retry-after");
        expect(r.body).toMatchObject({ status: 429, title: "Too Many Requests" });
      }
    }
    // a burst of 5, then the refill of 2/s: most of the 12 quick requests are refused
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(4);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await get("/api/v1/workflows?limit=1", key)).status).not.toBe(429);
    await Bun.sleep(1100);
    expect((await get("/api/v1/workflows?limit=1", k)).status).toBe(200);
  });
});
