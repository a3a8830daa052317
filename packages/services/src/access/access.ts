import { rateLimited, unauthorized } from "@wf/core/errors";
import type { ApiKeys } from "./api-keys.ts";
import type { RateLimiter } from "./rate-limiter.ts";

/**
 * Who may call what: with keys required, every /api/v1 route (and /metrics if asked) needs
 * `authorization: Bearer <key>` of an active key, within that key's rate if one is set.
 * /health, the docs and GET / stay open, so probes and people can always see the service is up.
 */
export class AccessControl {
  constructor(
    private readonly keys: ApiKeys,
    private readonly limiter: RateLimiter | undefined,
    private readonly protectMetrics: boolean,
  ) {}

  guards(path: string): boolean {
    return path.startsWith("/api/v1/") || path === "/api/v1" || (this.protectMetrics && path === "/metrics");
  }

  /** Resolves when the request may proceed; throws `unauthorized` or `rate_limited` otherwise. */
  async admit(authorization: string | null): Promise<void> {
    if (authorization === null) throw unauthorized("this endpoint needs an API key: authorization: Bearer <key>");
    const keyId = this.keys.identify(authorization);
    if (keyId === undefined) throw unauthorized("the API key is not valid");
    if (!this.limiter) return;
    const verdict = await this.limiter.take(keyId);
    if (!verdict.allowed) throw rateLimited(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000)));
  }
}
