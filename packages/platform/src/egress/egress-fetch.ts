import { isIP } from "node:net";
import type { EgressPolicy } from "./egress.ts";

/** One outbound request: http steps and webhook deliveries alike. */
export interface EgressRequest {
  method: string;
  headers?: Record<string, string>;
  body?: string;
  /** Until the response head has arrived and its body been read. */
  timeoutMs: number;
  /** A larger response body fails the request instead of being buffered (or, with `truncate`, is cut there). */
  maxResponseBytes: number;
  /** Keep the first maxResponseBytes of a larger body instead of failing (a webhook receiver's answer is only shown). */
  truncate?: boolean;
  /** The caller's own cancellation (a run cancelled, a worker draining): its reason is thrown as is. */
  signal?: AbortSignal;
  /** Trusted certificate authorities, in place of the system's (a private CA; tests). */
  ca?: string | string[];
}

export interface EgressResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/** A request that did not get a response. `retryable` false: the policy refused, another try cannot help. */
export class EgressError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = "EgressError";
  }
}

/** Reads at most `cap` bytes of a body; more is a failure (or cut off, with `truncate`), not an unbounded buffer. */
async function readCapped(res: Response, cap: number, truncate: boolean): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > cap && !truncate) throw new EgressError(`response body of ${declared} bytes exceeds the ${cap}-byte limit`, true);
  if (!res.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    if (size + chunk.byteLength > cap) {
      if (!truncate) throw new EgressError(`response body exceeds the ${cap}-byte limit`, true);
      chunks.push(chunk.subarray(0, cap - size));
      size = cap;
      break;
    }
    size += chunk.byteLength;
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
 * The URL with its host replaced by `address`, for a connection to that address and no other:
 * fetch then resolves nothing. The name stays in the `Host` header and, for https, in the TLS
 * server name (SNI) and the certificate check; Bun keys its connection pool on the server name too.
 */
function pinned(url: URL, address: string, headers: Headers, ca: EgressRequest["ca"]) {
  const direct = new URL(url);
  direct.hostname = isIP(address) === 6 ? `[${address}]` : address;
  if (!headers.has("host")) headers.set("host", url.host);
  const name = url.hostname.replace(/^\[|\]$/g, "");
  const tls = url.protocol === "https:" && !isIP(name) ? { serverName: name, ...(ca ? { ca } : {}) } : ca ? { ca } : undefined;
  return { direct, tls };
}

/**
 * An outbound HTTP request under the egress policy: the host name is resolved once, its addresses
 * checked, and the connection made to the checked address (pinned: a DNS answer that changes in
 * between cannot lead past the policy). No redirect is followed (one could lead past the policy
 * too), the response must arrive within the timeout, and its body is capped.
 */
export async function egressFetch(url: URL, policy: EgressPolicy, req: EgressRequest): Promise<EgressResponse> {
  const admission = await policy.admit(url);
  if (!admission.ok) throw new EgressError(admission.reason, admission.unresolved === true);
  const headers = new Headers(req.headers);
  const { direct, tls } = pinned(url, admission.address, headers, req.ca);
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  try {
    const res = await fetch(direct, { method: req.method, headers, body: req.body, redirect: "manual", signal, ...(tls ? { tls } : {}) });
    return { status: res.status, headers: res.headers, body: await readCapped(res, req.maxResponseBytes, req.truncate === true) };
  } catch (err) {
    if (req.signal?.aborted || err instanceof EgressError) throw err;
    if (timeout.aborted) throw new EgressError(`no response within ${req.timeoutMs} ms`, true);
    throw new EgressError(`request failed: ${err instanceof Error ? err.message : String(err)}`, true);
  }
}
