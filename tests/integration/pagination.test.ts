import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, sampleWorkflow, startApi, type TestApi } from "../support/api.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.stop());

type Page = { status: number; body: { items: { id: string; created_at: string }[]; next_cursor: string | null } };

/** Walks pages from the newest until `stop` says enough (or the list ends), calling `between` after each page. */
async function walk(
  path: string,
  limit: number,
  between?: () => Promise<unknown>,
  stop: (ids: string[]) => boolean = () => false,
): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const r: Page = await call(api.url, "GET", `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    expect(r.status).toBe(200);
    expect(r.body.items.length).toBeLessThanOrEqual(limit);
    seen.push(...r.body.items.map((i) => i.id));
    cursor = r.body.next_cursor;
    await between?.();
  } while (cursor && !stop(seen));
  return seen;
}

describe("keyset pagination", () => {
  test("walking the pages while others insert returns each earlier item once, newest first", async () => {
    // The shared database holds every earlier test's workflows too: the walk covers the window
    // from now back to the oldest of 25 made here, which is all a reader could page through.
    const mine: string[] = [];
    for (let i = 0; i < 25; i++) mine.push((await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow())).body.id);
    const oldest = (await api.services.sql<{ created_at: Date }[]>`SELECT created_at FROM workflows WHERE id = ${mine[0]!}::uuid`)[0]!
      .created_at;
    const existing = (
      await api.services.sql<{ id: string }[]>`SELECT id FROM workflows WHERE created_at >= ${oldest} ORDER BY created_at DESC, id DESC`
    ).map((r) => r.id);
    expect(existing.length).toBeGreaterThanOrEqual(25);

    const inserted: string[] = [];
    const seen = await walk(
      "/api/v1/workflows",
      7,
      async () => inserted.push((await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow())).body.id),
      (ids) => ids.includes(mine[0]!),
    );
    const window = seen.slice(0, seen.indexOf(mine[0]!) + 1).filter((id) => !inserted.includes(id));
    expect(window).toEqual(existing);
    expect(new Set(seen).size).toBe(seen.length);
  });

  test("runs pages with a filter cover exactly the filtered runs", async () => {
    const wf = (await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow())).body.id;
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await call(api.url, "POST", "/api/v1/trigger", { workflow_id: wf })).body.run_id);
    expect(await walk(`/api/v1/runs?workflow_id=${wf}`, 5)).toEqual(ids.reverse());
  });

  test("a page larger than Bun's 16 KiB cork buffer arrives whole and parses (sent as one stream)", async () => {
    const mine: string[] = [];
    for (let i = 0; i < 60; i++)
      mine.push((await call(api.url, "POST", "/api/v1/workflows", { ...sampleWorkflow(), description: "d".repeat(400) })).body.id);
    const res = await fetch(`${api.url}/api/v1/workflows?limit=60`, { headers: { "x-request-id": "big-page-1" } });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    expect(res.headers.get("x-request-id")).toBe("big-page-1");
    expect(Buffer.byteLength(text)).toBeGreaterThan(24_000);
    const page = JSON.parse(text) as Page["body"];
    expect(page.items.map((i) => i.id)).toEqual(mine.reverse());
    expect(page.next_cursor).toBeString();
  });

  test("default and maximum page sizes", async () => {
    const r = await call(api.url, "GET", "/api/v1/workflows");
    expect(r.body.items.length).toBe(Math.min(50, r.body.items.length));
    expect((await call(api.url, "GET", "/api/v1/workflows?limit=200")).status).toBe(200);
  });

  test("a tampered, foreign or garbage cursor is a 400 problem", async () => {
    await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow());
    await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow());
    const first = await call(api.url, "GET", "/api/v1/workflows?limit=1");
    const cursor: string = first.body.next_cursor;
    expect(cursor).toBeString();
    const flipped = cursor.slice(0, 10) + (cursor[10] === "A" ? "B" : "A") + cursor.slice(11);
    const runsCursor = (await call(api.url, "GET", "/api/v1/runs?limit=1")).body.next_cursor;
    for (const bad of [flipped, "garbage", cursor.slice(0, -2), runsCursor].filter(Boolean)) {
      const r = await call(api.url, "GET", `/api/v1/workflows?cursor=${encodeURIComponent(bad)}`);
      expect(r.status).toBe(400);
      expect(r.headers.get("content-type")).toStartWith("application/problem+json");
    }
    const filtered = await call(api.url, "GET", `/api/v1/runs?status=pending&cursor=${encodeURIComponent(runsCursor ?? cursor)}`);
    expect(filtered.status).toBe(400);
  });
});
