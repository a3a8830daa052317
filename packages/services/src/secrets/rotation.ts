import type { Keyring } from "@wf/platform/secrets";
import type { SecretStore } from "./store.ts";

export interface RotationResult {
  /** Values re-sealed under the active key by this pass. */
  resealed: number;
  /** Values under a configured key that did not open (altered, or sealed by another key of that id): left as they are. */
  unreadable: Array<{ name: string; error: string }>;
  /** Values per key once it is over: all under the active key unless some are unreadable, under a key not configured, or written meanwhile by a process with the previous active key. */
  byKey: Map<string, number>;
}

/**
 * Re-seals every value under a configured key other than the active one, `batch` values per
 * transaction in name order, so that no lock is held long and API and workers go on reading:
 * they accept every configured key.
 */
export async function rotateSecrets(store: SecretStore, keyring: Keyring, batch = 100): Promise<RotationResult> {
  const from = keyring.ids.filter((id) => id !== keyring.activeId);
  const unreadable: RotationResult["unreadable"] = [];
  let resealed = 0;
  let after = "";
  while (from.length > 0) {
    const pass = await store.resealBatch(from, after, batch, (row) => {
      try {
        return keyring.seal(row.name, keyring.open(row.name, row));
      } catch (err) {
        unreadable.push({ name: row.name, error: err instanceof Error ? err.message : String(err) });
        return undefined;
      }
    });
    resealed += pass.resealed;
    if (pass.seen.length === 0) break;
    after = pass.seen[pass.seen.length - 1]!;
  }
  return { resealed, unreadable, byKey: await store.countByKey() };
}
