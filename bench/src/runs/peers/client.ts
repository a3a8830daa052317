/** Client side of one run, timed from the moment the trigger is sent (Bun's fetch, one keep-alive connection). */
import type { PeerRun } from "./peer.ts";
import { expectedValue, isLoggedLine, type LoggedLine } from "./workload.ts";

const JSON_HEADERS = { "content-type": "application/json" } as const;

/** Throws unless a completed run reports step 3's line with the value the three steps must give for `x`. */
export function checkResult(x: number, result: unknown, where: string): LoggedLine {
  if (!isLoggedLine(result)) throw new Error(`${where}: unexpected result ${JSON.stringify(result)}`);
  if (result.v !== expectedValue(x)) throw new Error(`${where}: result v=${result.v}, expected ${expectedValue(x)} for x=${x}`);
  return result;
}

async function expectOk(r: Response, where: string): Promise<void> {
  if (!r.ok) throw new Error(`${where}: HTTP ${r.status} ${await r.text()}`);
}

/**
 * POST to an app's /run-stream: `acceptedMs` when the first NDJSON line (the engine accepted the
 * run) arrives, `completedMs` when the last one (the result) has.
 */
export async function streamRun(url: string, x: number): Promise<PeerRun> {
  const t0 = performance.now();
  const r = await fetch(url, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ x }) });
  await expectOk(r, url);
  if (!r.body) throw new Error(`${url}: no body`);
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let acceptedMs: number | undefined;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (acceptedMs === undefined && text.includes("\n")) acceptedMs = performance.now() - t0;
  }
  const completedMs = performance.now() - t0;
  const lines = text.trim().split("\n");
  const last = JSON.parse(lines[lines.length - 1] ?? "{}") as { result?: unknown; error?: string };
  if (last.error !== undefined) throw new Error(`${url}: run failed: ${last.error}`);
  checkResult(x, last.result, url);
  return { acceptedMs: acceptedMs ?? completedMs, completedMs };
}

/** POST JSON, answer parsed as JSON (throws on a non-2xx status). */
export async function postJson(url: string, body: unknown): Promise<unknown> {
  const r = await fetch(url, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(body) });
  await expectOk(r, url);
  return r.json();
}

export async function getJson(url: string): Promise<unknown> {
  const r = await fetch(url);
  await expectOk(r, url);
  return r.json();
}

export function syncTriggerFor(url: string): { url: string; method: "POST"; headers: Record<string, string>; body: string } {
  return { url, method: "POST", headers: { ...JSON_HEADERS }, body: JSON.stringify({ x: 1 }) };
}
