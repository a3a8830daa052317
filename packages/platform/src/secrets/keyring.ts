import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/** One encryption key of SECRETS_KEYS: its id (stored beside each value) and its 32 bytes. */
export interface SecretKey {
  id: string;
  key: Buffer;
}

/** A value as stored: which key sealed it, the nonce, and the ciphertext with its 16-byte GCM tag appended. */
export interface Sealed {
  key_id: string;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

const KEY_ID = /^[A-Za-z0-9_.-]{1,32}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** The key used when SECRETS_KEYS is empty outside production: fixed, so that every local process agrees, and public. */
export const DEV_KEY_ID = "dev-insecure";
const devKey = (): SecretKey => ({
  id: DEV_KEY_ID,
  key: createHash("sha256").update("workflow-service development key; never for production").digest(),
});

/** `kid1:base64key,kid2:base64key` → its keys, or what is wrong with it. Each key is 32 bytes (AES-256); ids are unique. */
export function parseKeys(raw: string): { ok: true; keys: SecretKey[] } | { ok: false; problem: string } {
  const keys: SecretKey[] = [];
  for (const part of raw.split(",").map((p) => p.trim())) {
    if (part === "") continue;
    const at = part.indexOf(":");
    const id = at < 0 ? "" : part.slice(0, at);
    const b64 = at < 0 ? "" : part.slice(at + 1);
    if (!KEY_ID.test(id)) return { ok: false, problem: "each entry as <id>:<base64 key>, the id 1-32 letters, digits, '_', '.' or '-'" };
    const key = BASE64.test(b64) ? Buffer.from(b64, "base64") : Buffer.alloc(0);
    if (key.length !== 32) return { ok: false, problem: `key "${id}" to be 32 bytes in base64 (openssl rand -base64 32)` };
    if (keys.some((k) => k.id === id)) return { ok: false, problem: `key ids to be unique ("${id}" is named twice)` };
    keys.push({ id, key });
  }
  return { ok: true, keys };
}

/** The additional authenticated data of a value: its name, so a ciphertext moved to another name fails to open. */
const aad = (name: string) => Buffer.from(`wf-secret:v1:${name}`, "utf8");

/**
 * The keys secrets are sealed with (AES-256-GCM, node:crypto): new values under the active key,
 * any configured key opens a value, so a rotation is a configuration change and a re-encryption
 * pass (`bun run secrets:rotate`), not downtime.
 */
export class Keyring {
  private readonly byId: Map<string, Buffer>;

  constructor(
    keys: SecretKey[],
    readonly activeId: string,
  ) {
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
    if (!this.byId.has(activeId)) throw new Error(`the active key "${activeId}" is not one of the keys`);
  }

  get ids(): string[] {
    return [...this.byId.keys()];
  }

  /** A random 96-bit nonce per value, the name bound as additional authenticated data. */
  seal(name: string, value: string): Sealed {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.byId.get(this.activeId)!, nonce);
    cipher.setAAD(aad(name));
    const ciphertext = Buffer.concat([cipher.update(value, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return { key_id: this.activeId, nonce, ciphertext };
  }

  /** The value; throws when its key is not configured or the ciphertext, nonce or name was altered. */
  open(name: string, sealed: Sealed): string {
    const key = this.byId.get(sealed.key_id);
    if (!key) throw new Error(`secret ${name} is sealed with key "${sealed.key_id}", which SECRETS_KEYS does not hold`);
    const data = Buffer.from(sealed.ciphertext);
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(sealed.nonce));
    decipher.setAAD(aad(name));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    return Buffer.concat([decipher.update(data.subarray(0, data.length - TAG_BYTES)), decipher.final()]).toString("utf8");
  }
}

/** What `keyringFromConfig` needs of the configuration (validated by loadConfig). */
export interface KeyringConfig {
  secretsKeys: string;
  secretsActiveKey: string;
}

/**
 * The process's keyring: SECRETS_KEYS, the active one SECRETS_ACTIVE_KEY or else the first. With no
 * keys (outside production: loadConfig refuses production without them), a fixed development key
 * that anyone can derive, and `warn` says so loudly.
 */
export function keyringFromConfig(config: KeyringConfig, warn: (message: string) => void): Keyring {
  const parsed = parseKeys(config.secretsKeys);
  if (!parsed.ok) throw new Error(`SECRETS_KEYS is not valid: expected ${parsed.problem}`);
  if (parsed.keys.length === 0) {
    warn(
      "SECRETS_KEYS is not set: secrets are encrypted with a PUBLIC DEVELOPMENT KEY that anyone can derive. Set SECRETS_KEYS (and NODE_ENV=production) for any real use.",
    );
    const dev = devKey();
    return new Keyring([dev], dev.id);
  }
  return new Keyring(parsed.keys, config.secretsActiveKey || parsed.keys[0]!.id);
}
