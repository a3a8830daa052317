import type { HttpStepOutput } from "@wf/core/engine";
import { StepFailure } from "@wf/core/engine";
import { toStorableJson, toStorableText } from "@wf/core/json";
import type { HttpConfig } from "@wf/core/workflows";
import type { EgressPolicy } from "./egress.ts";
import { EgressError, egressFetch } from "./egress-fetch.ts";

/** An answer nested deeper is kept as its text: every walk over a run's data stays shallow. */
export const MAX_ANSWER_DEPTH = 64;

export interface HttpStepLimits {
  defaultTimeoutMs: number;
  maxResponseBytes: number;
}

/**
 * A real HTTP request for an http step, through egressFetch (the egress policy, the connection
 * pinned to the checked address, the step's timeout and the run's abort signal, no redirects, a
 * capped body), parsed as JSON when it says it is (and not deeper than MAX_ANSWER_DEPTH). A status of 400 or more is a failure, so the
 * step's retry policy applies.
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
  const hasBody = config.body !== undefined && config.method !== "GET" && config.method !== "HEAD";
  let res: Awaited<ReturnType<typeof egressFetch>>;
  try {
    res = await egressFetch(url, policy, {
      method: config.method,
      headers: { ...(hasBody ? { "content-type": "application/json" } : {}), ...config.headers },
      body: hasBody ? (typeof config.body === "string" ? config.body : JSON.stringify(config.body)) : undefined,
      timeoutMs: config.timeout_ms ?? limits.defaultTimeoutMs,
      maxResponseBytes: limits.maxResponseBytes,
      signal,
    });
  } catch (err) {
    if (err instanceof EgressError) throw new StepFailure(err.message, err.retryable);
    throw err;
  }
  // What the server sends is stored with the run: made storable here (NUL, unpaired surrogates),
  // or PostgreSQL would refuse the run's write at every retry.
  const text = new TextDecoder().decode(res.body);
  let body: unknown = toStorableText(text);
  if ((res.headers.get("content-type") ?? "").includes("json") && text.length > 0) {
    try {
      body = toStorableJson(JSON.parse(text), MAX_ANSWER_DEPTH) ?? body;
    } catch {
      // not JSON after all: kept as text
    }
  }
  const headers = Object.fromEntries([...res.headers].map(([k, v]) => [k, toStorableText(v)]));
  const output: HttpStepOutput = { status: res.status, headers, body };
  if (res.status >= 400) throw new StepFailure(`HTTP ${res.status} from ${url.host}`, true, output);
  return output;
}
