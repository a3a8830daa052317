import type { HttpStepOutput } from "@wf/core/engine";
import { StepFailure } from "@wf/core/engine";
import type { HttpConfig } from "@wf/core/workflows";
import type { EgressPolicy } from "./egress.ts";

export interface HttpStepLimits {
  defaultTimeoutMs: number;
  maxResponseBytes: number;
}

/** Reads at most `cap` bytes of a body; more is a step failure, not an unbounded buffer. */
async function readCapped(res: Response, cap: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > cap) throw new StepFailure(`response body of ${declared} bytes exceeds the ${cap}-byte limit`);
  if (!res.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > cap) throw new StepFailure(`response body exceeds the ${cap}-byte limit`);
    chunks.push(chunk);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * A real HTTP request for an http step: the egress policy first, then fetch with the step's
 * timeout (and the run's abort signal), no redirects followed (a redirect could lead past the
 * policy), a capped body parsed as JSON when it says it is. A status of 400 or more is a failure,
 * so the step's retry policy applies.
 */
export async function runHttpStep(
  config: HttpConfig,
  policy: EgressPolicy,
  limits: HttpStepLimits,
  signal: AbortSignal,
): Promise<HttpStepOutput> {
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    throw new StepFailure(`url ${JSON.stringify(config.url)} is not a valid URL once rendered`, false);
  }
  const refused = await policy.check(url);
  if (refused) throw new StepFailure(refused, false);

  const timeoutMs = config.timeout_ms ?? limits.defaultTimeoutMs;
  const hasBody = config.body !== undefined && config.method !== "GET" && config.method !== "HEAD";
  let res: Response;
  try {
    res = await fetch(url, {
      method: config.method,
      headers: { ...(hasBody ? { "content-type": "application/json" } : {}), ...config.headers },
      body: hasBody ? (typeof config.body === "string" ? config.body : JSON.stringify(config.body)) : undefined,
      redirect: "manual",
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
  } catch (err) {
    if (signal.aborted) throw err;
    const name = err instanceof Error ? err.name : "";
    throw new StepFailure(
      name === "TimeoutError"
        ? `no response within ${timeoutMs} ms`
        : `request failed: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const bytes = await readCapped(res, limits.maxResponseBytes);
  const text = new TextDecoder().decode(bytes);
  let body: unknown = text;
  if ((res.headers.get("content-type") ?? "").includes("json") && text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  const output: HttpStepOutput = { status: res.status, headers: Object.fromEntries(res.headers), body };
  if (res.status >= 400) throw new StepFailure(`HTTP ${res.status} from ${url.host}`, true, output);
  return output;
}
