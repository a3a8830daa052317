import type { Logger } from "@wf/platform/observability";
import { errorFields } from "@wf/platform/observability";
import { constantTimeEqual, hashKey } from "./key-hash.ts";
import type { ActiveKey, KeyStore } from "./key-store.ts";

const BEARER = /^Bearer +([\x21-\x7e]{1,512})$/i;

/** Who a request's key is and what it may do. */
export interface Grant {
  keyId: string;
  scopes: ActiveKey["scopes"];
}

/**
 * The active keys' digests and scopes, held in memory and reloaded every `refreshMs`, so checking a request
 * costs a hash and a few comparisons, not a query; a key created or revoked takes effect within
 * one refresh on every process. If a reload fails the last known set stays in force.
 */
export class ApiKeys {
  private keys = new Map<string, ActiveKey>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly store: KeyStore,
    private readonly refreshMs: number,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(
      () => void this.refresh().catch((err) => this.log.warn("could not reload API keys", errorFields(err))),
      this.refreshMs,
    );
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    this.keys = await this.store.active();
  }

  /** The key an `authorization` header carries, or undefined when it carries none that is active. */
  identify(authorization: string | null): Grant | undefined {
    const m = authorization === null ? null : BEARER.exec(authorization);
    if (!m) return undefined;
    const digest = hashKey(m[1]!);
    // Every stored digest is compared, match or not, so the time does not tell which one matched.
    let found: Grant | undefined;
    for (const [keyId, stored] of this.keys) if (constantTimeEqual(digest, stored.digest)) found = { keyId, scopes: stored.scopes };
    return found;
  }
}
