import type { Logger } from "@wf/platform/observability";
import { errorFields } from "@wf/platform/observability";
import { constantTimeEqual, hashKey } from "./key-hash.ts";
import type { KeyStore } from "./key-store.ts";

const BEARER = /^Bearer +([\x21-\x7e]{1,512})$/i;

/**
 * The active keys' digests, held in memory and reloaded every `refreshMs`, so checking a request
 * costs a hash and a few comparisons, not a query; a key created or revoked takes effect within
 * one refresh on every process. If a reload fails the last known set stays in force.
 */
export class ApiKeys {
  private keys = new Map<string, Buffer>();
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

  /** The id of the key an `authorization` header carries, or undefined when it carries none that is active. */
  identify(authorization: string | null): string | undefined {
    const m = authorization === null ? null : BEARER.exec(authorization);
    if (!m) return undefined;
    const digest = hashKey(m[1]!);
    // Every stored digest is compared, match or not, so the time does not tell which one matched.
    let found: string | undefined;
    for (const [id, stored] of this.keys) if (constantTimeEqual(digest, stored)) found = id;
    return found;
  }
}
