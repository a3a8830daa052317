import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import type { BrowserContext } from "playwright-core";
import { startApi, type TestApi } from "../support/api.ts";
import { type Browser, launchChromium } from "../support/browser.ts";

let api: TestApi;
let browser: BrowserContext;
let chrome: Browser | undefined;
beforeAll(async () => {
  api = await startApi();
  chrome = await launchChromium();
  browser = chrome.context;
});
afterAll(async () => {
  await chrome?.close();
  await api.stop();
});

describe("Swagger UI", () => {
  test("renders offline from local assets, lists the operations and executes one", async () => {
    const page = await browser.newPage();
    const external: string[] = [];
    // Offline: any request that leaves this server is recorded and refused.
    await page.route("**/*", (route) => {
      const u = route.request().url();
      if (u.startsWith(api.url)) return route.continue();
      external.push(u);
      return route.abort();
    });
    await page.goto(`${api.url}/swagger`);
    await page.waitForSelector(".opblock", { timeout: 20_000 });
    const ops = await page.$$eval(".opblock-summary-path", (els) => els.map((e) => e.getAttribute("data-path")));
    expect(ops).toContain("/api/v1/workflows");
    expect(ops).toContain("/api/v1/trigger");
    expect(ops).toContain("/api/v1/runs/{id}/cancel");

    // Open GET /health, "Try it out", "Execute", and read the live response the UI shows.
    const op = page.locator(".opblock-get", { has: page.locator('[data-path="/health"]') }).first();
    await op.locator(".opblock-summary").click();
    await op.locator("button.try-out__btn").click();
    await op.locator("button.execute").click();
    const responseBody = op.locator(".live-responses-table tbody .response-col_description pre").first();
    await responseBody.waitFor({ timeout: 10_000 });
    expect(await responseBody.textContent()).toContain('"status": "ok"');
    expect(await op.locator(".live-responses-table tbody .response-col_status").first().textContent()).toContain("200");

    await page.screenshot({ path: join(tmpdir(), "swagger-ui.png"), fullPage: false });
    expect(external).toEqual([]);
  });
});

describe("the OpenAPI document", () => {
  type Res = { content?: Record<string, unknown>; headers?: Record<string, unknown> };
  type Param = { name: string; in: string; schema: Record<string, unknown> };
  const document = async () =>
    (await (await fetch(`${api.url}/swagger/json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, Res>; parameters?: Param[] }>>;
    };
  const responses = (doc: Awaited<ReturnType<typeof document>>) =>
    Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).flatMap(([m, op]) =>
        Object.entries(op.responses).map(([status, res]) => ({ at: `${m.toUpperCase()} ${path} ${status}`, status: Number(status), res })),
      ),
    );

  test("is valid OpenAPI (checked against the specification's own schema)", async () => {
    const result = await new Validator().validate(await document());
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  test("documents problems as application/problem+json, empty answers without content, and the headers sent", async () => {
    const all = responses(await document());
    // Every error answer is a problem, but for the readiness report (503 with its checks).
    const problems = all.filter((r) => r.status >= 400 && r.at !== "GET /health/ready 503");
    expect(Object.keys(all.find((r) => r.at === "GET /health/ready 503")?.res.content ?? {})).toEqual(["application/json"]);
    expect(problems.length).toBeGreaterThan(20);
    for (const r of problems)
      expect({ at: r.at, media: Object.keys(r.res.content ?? {}) }).toEqual({ at: r.at, media: ["application/problem+json"] });
    for (const r of all.filter((r) => r.status === 204))
      expect({ at: r.at, content: r.res.content }).toEqual({ at: r.at, content: undefined });
    for (const r of all) expect({ at: r.at, requestId: Boolean(r.res.headers?.["x-request-id"]) }).toEqual({ at: r.at, requestId: true });
    for (const r of all.filter((r) => r.status === 429 || r.status === 503)) expect(r.res.headers?.["retry-after"]).toBeDefined();
    const metrics = all.find((r) => r.at === "GET /metrics 200");
    expect(Object.keys(metrics?.res.content ?? {})).toEqual(["text/plain"]);
  });

  test("documents the page limit as the integer it is, not as a string of an unknown format", async () => {
    const doc = await document();
    for (const path of ["/api/v1/workflows", "/api/v1/runs"]) {
      const limit = doc.paths[path]!.get!.parameters?.find((p) => p.name === "limit");
      expect({ path, schema: limit?.schema }).toEqual({ path, schema: { type: "integer", minimum: 1, maximum: 200, default: 50 } });
    }
  });
});
