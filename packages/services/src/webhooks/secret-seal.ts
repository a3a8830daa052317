import type { Keyring, Sealed } from "@wf/platform/secrets";

/** A webhook's signing secret as stored: sealed (since migration 018) or, for an older row, in clear. */
export interface StoredWebhookSecret {
  secret: string | null;
  secret_key_id: string | null;
  secret_nonce: Uint8Array | null;
  secret_ciphertext: Uint8Array | null;
}

// The keyring binds this name into each ciphertext (GCM additional data): a sealed secret copied to
// another webhook, or into the secrets table (whose names cannot hold ':'), does not open there.
const sealedName = (webhookId: string) => `webhook:${webhookId.toLowerCase()}`;

export const sealWebhookSecret = (keyring: Keyring, webhookId: string, secret: string): Sealed =>
  keyring.seal(sealedName(webhookId), secret);

/** The secret to sign with; throws when it is sealed under a key this process does not hold, or altered. */
export function openWebhookSecret(keyring: Keyring, webhookId: string, s: StoredWebhookSecret): string {
  if (s.secret !== null) return s.secret;
  if (s.secret_key_id === null || s.secret_nonce === null || s.secret_ciphertext === null)
    throw new Error(`webhook ${webhookId} has no secret`);
  return keyring.open(sealedName(webhookId), { key_id: s.secret_key_id, nonce: s.secret_nonce, ciphertext: s.secret_ciphertext });
}
