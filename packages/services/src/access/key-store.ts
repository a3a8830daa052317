import { conflict, notFound } from "@wf/core/errors";
import { newId } from "@wf/core/ids";
import type { Scope } from "@wf/core/scopes";
import { pgArray, type Sql } from "@wf/platform/sql";
import { hashKey, newKey } from "./key-hash.ts";

export interface ApiKeyInfo {
  id: string;
  name: string;
  scopes: Scope[];
  created_at: Date;
  revoked_at: Date | null;
}

export interface ActiveKey {
  digest: Buffer;
  scopes: Scope[];
}

/** The api_keys table: keys are shown once, at creation, and only their digest is kept. */
// Scopes are read as JSON: with `fetch_types: false` the driver does not parse text[].
// Every statement carries a parameter: see sql/client.ts on parameterless queries through PgBouncer.
const MAX_KEYS = 100_000;

export class KeyStore {
  constructor(private readonly sql: Sql) {}

  /** A new key; without `scopes` it may do everything (`admin`), as every key could before scopes. */
  async create(name: string, scopes: readonly Scope[] = ["admin"]): Promise<ApiKeyInfo & { key: string }> {
    const key = newKey();
    const rows = await this.sql<ApiKeyInfo[]>`
      INSERT INTO api_keys (id, name, key_hash, scopes) VALUES (${newId()}::uuid, ${name}, ${hashKey(key)}, ${pgArray(scopes)}::text[])
      ON CONFLICT (name) DO NOTHING
      RETURNING id::text, name, to_jsonb(scopes) AS scopes, created_at, revoked_at`;
    if (!rows[0]) throw conflict(`an API key named ${JSON.stringify(name)} already exists`);
    return { ...rows[0], key };
  }

  async revoke(name: string): Promise<ApiKeyInfo> {
    const [row] = await this.sql<ApiKeyInfo[]>`
      UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE name = ${name}
      RETURNING id::text, name, to_jsonb(scopes) AS scopes, created_at, revoked_at`;
    if (!row) throw notFound("API key", name);
    return row;
  }

  list(): Promise<ApiKeyInfo[]> {
    return this.sql<
      ApiKeyInfo[]
    >`SELECT id::text, name, to_jsonb(scopes) AS scopes, created_at, revoked_at FROM api_keys ORDER BY created_at LIMIT ${MAX_KEYS}`;
  }

  /** The keys that are not revoked, by key id: their digests and scopes. */
  async active(): Promise<Map<string, ActiveKey>> {
    const rows = await this.sql<
      { id: string; key_hash: Buffer; scopes: Scope[] }[]
    >`SELECT id::text, key_hash, to_jsonb(scopes) AS scopes FROM api_keys WHERE revoked_at IS NULL LIMIT ${MAX_KEYS}`;
    return new Map(rows.map((r) => [r.id, { digest: Buffer.from(r.key_hash), scopes: r.scopes }]));
  }
}
