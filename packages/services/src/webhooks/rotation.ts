import type { Keyring } from "@wf/platform/secrets";
import { openWebhookSecret, sealWebhookSecret } from "./secret-seal.ts";
import type { WebhookStore } from "./store.ts";

export interface WebhookRotationResult {
  resealed: number;
  unreadable: Array<{ id: string; error: string }>;
  /** Secrets per key once it is over ("(clear)": not sealed yet). */
  byKey: Map<string, number>;
}

/**
 * Seals under the active key every webhook secret in clear (rows older than migration 018) or
 * sealed under another configured key, `batch` per transaction, as rotateSecrets does for secrets:
 * the dispatchers go on signing meanwhile, since they open either form under any configured key.
 */
export async function rotateWebhookSecrets(
  store: WebhookStore,
  keyring: Keyring,
  opts: { batch?: number /** Only the webhooks of this runs topic (tests share one database). */; topic?: string } = {},
): Promise<WebhookRotationResult> {
  const from = keyring.ids.filter((id) => id !== keyring.activeId);
  const unreadable: WebhookRotationResult["unreadable"] = [];
  let resealed = 0;
  let after = "00000000-0000-0000-0000-000000000000";
  for (;;) {
    const pass = await store.resealBatch(
      from,
      after,
      opts.batch ?? 100,
      (id, stored) => {
        try {
          return sealWebhookSecret(keyring, id, openWebhookSecret(keyring, id, stored));
        } catch (err) {
          unreadable.push({ id, error: err instanceof Error ? err.message : String(err) });
          return undefined;
        }
      },
      opts.topic,
    );
    resealed += pass.resealed;
    if (pass.seen.length === 0) break;
    after = pass.seen[pass.seen.length - 1]!;
  }
  return { resealed, unreadable, byKey: await store.countByKey(opts.topic) };
}
