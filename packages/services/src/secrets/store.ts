import type { Position } from "@wf/core/pagination";
import type { Sealed } from "@wf/platform/secrets";
import { pgArray, type Sql } from "@wf/platform/sql";

/** A secret as listed: never its value. */
export interface SecretRow {
  name: string;
  id: string;
  key_id: string;
  created_at: Date;
  updated_at: Date;
}

export type SealedRow = Sealed & { name: string };

export class SecretStore {
  constructor(private readonly sql: Sql) {}

  /** Creates or replaces the value; a replaced secret keeps its id and created_at. */
  async put(name: string, id: string, sealed: Sealed, now: Date): Promise<void> {
    await this.sql`
      INSERT INTO secrets (name, id, key_id, nonce, ciphertext, created_at, updated_at)
      VALUES (${name}, ${id}::uuid, ${sealed.key_id}, ${sealed.nonce}, ${sealed.ciphertext}, ${now}, ${now})
      ON CONFLICT (name) DO UPDATE
      SET key_id = EXCLUDED.key_id, nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext, updated_at = EXCLUDED.updated_at`;
  }

  list(limit: number, after?: Position): Promise<SecretRow[]> {
    const where = after ? this.sql`WHERE (created_at, id) < (${after.createdAt}, ${after.id}::uuid)` : this.sql``;
    return this.sql<SecretRow[]>`
      SELECT name, id, key_id, created_at, updated_at FROM secrets ${where}
      ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`;
  }

  async delete(name: string): Promise<boolean> {
    const rows = await this.sql`DELETE FROM secrets WHERE name = ${name} RETURNING name`;
    return rows.length > 0;
  }

  /** Which of `names` exist. */
  async existing(names: string[]): Promise<Set<string>> {
    const rows = await this.sql<{ name: string }[]>`SELECT name FROM secrets WHERE name = ANY(${pgArray(names)}::text[])`;
    return new Set(rows.map((r) => r.name));
  }

  /** The sealed values of those of `names` that exist. */
  sealed(names: string[]): Promise<SealedRow[]> {
    return this.sql<SealedRow[]>`SELECT name, key_id, nonce, ciphertext FROM secrets WHERE name = ANY(${pgArray(names)}::text[])`;
  }

  /**
   * One rotation batch, in one short transaction: up to `limit` values sealed under one of `from`,
   * after `after` in name order, locked (skipping those another pass holds) and re-sealed by
   * `reseal`; one it cannot re-seal (undefined) stays as it is. What it saw, for the next batch.
   */
  async resealBatch(
    from: string[],
    after: string,
    limit: number,
    reseal: (row: SealedRow) => Sealed | undefined,
  ): Promise<{ seen: string[]; resealed: number }> {
    return this.sql.begin(async (tx) => {
      const rows = await tx<SealedRow[]>`
        SELECT name, key_id, nonce, ciphertext FROM secrets
        WHERE key_id = ANY(${pgArray(from)}::text[]) AND name > ${after}
        ORDER BY name LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
      let resealed = 0;
      for (const row of rows) {
        const s = reseal(row);
        if (!s) continue;
        await tx`UPDATE secrets SET key_id = ${s.key_id}, nonce = ${s.nonce}, ciphertext = ${s.ciphertext} WHERE name = ${row.name}`;
        resealed++;
      }
      return { seen: rows.map((r) => r.name), resealed };
    });
  }

  /** How many values each key seals. */
  async countByKey(): Promise<Map<string, number>> {
    const rows = await this.sql<{ key_id: string; n: number }[]>`SELECT key_id, count(*)::int AS n FROM secrets GROUP BY key_id`;
    return new Map(rows.map((r) => [r.key_id, r.n]));
  }
}
