import { invalid, notFound } from "@wf/core/errors";
import { newId } from "@wf/core/ids";
import { isStorableText, UNSTORABLE_TEXT } from "@wf/core/json";
import { type CursorCodec, PAGE_LIMIT, type Page, type PageRequest, startAfter, toPage } from "@wf/core/pagination";
import { isSecretName, MAX_SECRET_VALUE_BYTES, SECRET_NAME_ERROR } from "@wf/core/secrets";
import type { Keyring } from "@wf/platform/secrets";
import type { SecretRow, SecretStore } from "./store.ts";

/** A secret as the API shows it: its name, key and times, never its value. */
export interface SecretInfo {
  name: string;
  key_id: string;
  created_at: string;
  updated_at: string;
}

const SCOPE = "secrets";

export const toSecretInfo = (r: SecretRow): SecretInfo => ({
  name: r.name,
  key_id: r.key_id,
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
});

/** Secrets for the API: sealed as they come in, listed without values, never opened here. */
export class SecretService {
  constructor(
    private readonly store: SecretStore,
    private readonly keyring: Keyring,
    private readonly cursors: CursorCodec,
  ) {}

  async put(name: string, value: string): Promise<void> {
    if (!isSecretName(name)) throw invalid([{ path: "name", message: SECRET_NAME_ERROR }]);
    if (value.length === 0 || Buffer.byteLength(value, "utf8") > MAX_SECRET_VALUE_BYTES)
      throw invalid([{ path: "/value", message: `value must be 1 to ${MAX_SECRET_VALUE_BYTES} bytes of UTF-8` }]);
    if (!isStorableText(value)) throw invalid([{ path: "/value", message: `value ${UNSTORABLE_TEXT}` }]);
    await this.store.put(name, newId(), this.keyring.seal(name, value), new Date());
  }

  async list(req: PageRequest): Promise<Page<SecretInfo>> {
    const limit = req.limit ?? PAGE_LIMIT.default;
    return toPage(await this.store.list(limit, startAfter(this.cursors, req, SCOPE)), limit, this.cursors, SCOPE, toSecretInfo);
  }

  async remove(name: string): Promise<void> {
    if (!isSecretName(name) || !(await this.store.delete(name))) throw notFound("secret", name);
  }

  /** Which of `names` do not exist (a workflow that reads them is refused). */
  async missing(names: string[]): Promise<Set<string>> {
    if (names.length === 0) return new Set();
    const found = await this.store.existing([...new Set(names)]);
    return new Set(names.filter((n) => !found.has(n)));
  }
}
