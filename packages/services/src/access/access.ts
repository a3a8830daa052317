import { forbidden, rateLimited, unauthorized } from "@wf/core/errors";
import { allows, isScope, type Scope } from "@wf/core/scopes";
import type { ApiKeys } from "./api-keys.ts";
import type { RateLimiter } from "./rate-limiter.ts";

/**
 * The scope a route needs, from what it declares (`x-required-scope` in its OpenAPI operation).
 * An /api route that declares none needs `admin`: forgetting to declare one must not open it up.
 */
export function routeScope(path: string, declared: unknown): Scope | undefined {
  if (isScope(declared)) return declared;
  return path.startsWith("/api/") ? "admin" : undefined;
}

/**
 * Who may call what: with keys required, every /api/v1 route (and /metrics if asked) needs
 * `authorization: Bearer <key>` of an active key, within that key's rate if one is set, and holding
 * the scope the route needs. /health, the docs and GET / stay open, so probes and people can
 * always see the service is up.
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

  /**
   * Resolves when the request may proceed; throws `unauthorized` (no or unknown key),
   * `rate_limited`, or `forbidden` (the key lacks `scope`; none: any key will do).
   */
  async admit(authorization: string | null, scope?: Scope): Promise<void> {
    if (authorization === null) throw unauthorized("this endpoint needs an API key: authorization: Bearer <key>");
    const grant = this.keys.identify(authorization);
    if (grant === undefined) throw unauthorized("the API key is not valid");
    if (this.limiter) {
      const verdict = await this.limiter.take(grant.keyId);
      if (!verdict.allowed) throw rateLimited(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000)));
    }
    if (scope !== undefined && !allows(grant.scopes, scope)) throw forbidden(`this API key lacks the scope ${scope}`);
  }
}
