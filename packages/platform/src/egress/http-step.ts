import type { HttpStepOutput } from "@wf/core/engine";
import { StepFailure } from "@wf/core/engine";
import type { HttpConfig } from "@wf/core/workflows";
import type { EgressPolicy } from "./egress.ts";
import { EgressError, egressFetch } from "./egress-fetch.ts";

export interface HttpStepLimits {
  defaultTimeoutMs: number;
  maxResponseBytes: number;
}

/**
 * A real HTTP request for an http step, through egressFetch (the egress policy, the connection
 * pinned to the checked address, the step's timeout and the run's abort signal, no redirects, a
 * capped body), parsed as JSON when it says it is. A status of 400 or more is a failure, so the
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
  const text = new TextDecoder().decode(res.body);
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
