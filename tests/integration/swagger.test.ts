import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { startApi, type TestApi } from "../support/api.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

let api: TestApi;
let browser: BrowserContext;
let profile: string;
beforeAll(async () => {
  api = await startApi();
  profile = mkdtempSync(join(tmpdir(), "wf-chromium-"));
  // A fresh profile each run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  rmSync(profile, { recursive: true, force: true });
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
