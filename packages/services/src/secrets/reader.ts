import type { SecretValues } from "@wf/core/engine";
import type { Keyring } from "@wf/platform/secrets";
import type { SecretStore } from "./store.ts";

/**
 * The worker's view of secrets: read from PostgreSQL and opened when an http step is about to send
 * its request, with no cache, so a value changed by a PUT is what the next step attempt sends.
 */
export class SecretReader implements SecretValues {
  constructor(
    private readonly store: SecretStore,
    private readonly keyring: Keyring,
  ) {}

  async read(names: string[]): Promise<Map<string, string>> {
    const rows = await this.store.sealed(names);
    return new Map(rows.map((r) => [r.name, this.keyring.open(r.name, r)]));
  }
}
