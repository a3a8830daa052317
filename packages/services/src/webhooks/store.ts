import type { Position } from "@wf/core/pagination";
import type { DeliveryRow, WebhookEvent, WebhookRow } from "@wf/core/webhooks";
import type { Sealed } from "@wf/platform/secrets";
import { pgArray, type Sql } from "@wf/platform/sql";
import type { StoredWebhookSecret } from "./secret-seal.ts";

// The driver knows no array types (fetch_types off): the events come back as JSON.
const WEBHOOK_COLUMNS = "id, url, to_jsonb(events) AS events, workflow_id, created_at";
const DELIVERY_COLUMNS = "id, webhook_id, event, run_id, status, attempts, attempt_log, next_attempt_at, created_at, updated_at";

export interface NewWebhook {
  id: string;
  url: string;
  events: WebhookEvent[];
  workflowId: string | null;
  /** The signing secret, sealed (see sealWebhookSecret): never stored in clear. */
  secret: Sealed;
  topic: string;
  now: Date;
}

export class WebhookStore {
  constructor(private readonly sql: Sql) {}

  /** The new webhook, in one statement that checks its workflow exists; undefined when it does not. */
  async insert(w: NewWebhook): Promise<WebhookRow | undefined> {
    const [row] = await this.sql<WebhookRow[]>`
      INSERT INTO webhooks (id, url, events, workflow_id, secret_key_id, secret_nonce, secret_ciphertext, topic, created_at)
      SELECT ${w.id}::uuid, ${w.url}, ${pgArray(w.events)}::text[], ${w.workflowId}::uuid,
             ${w.secret.key_id}, ${w.secret.nonce}, ${w.secret.ciphertext}, ${w.topic}, ${w.now}
      WHERE ${w.workflowId}::uuid IS NULL OR EXISTS (SELECT 1 FROM workflows WHERE id = ${w.workflowId}::uuid)
      RETURNING ${this.sql.unsafe(WEBHOOK_COLUMNS)}`;
    return row;
  }

  async get(id: string): Promise<WebhookRow | undefined> {
    const [row] = await this.sql<WebhookRow[]>`SELECT ${this.sql.unsafe(WEBHOOK_COLUMNS)} FROM webhooks WHERE id = ${id}::uuid`;
    return row;
  }

  list(limit: number, after?: Position): Promise<WebhookRow[]> {
    const where = after ? this.sql`WHERE (created_at, id) < (${after.createdAt}, ${after.id}::uuid)` : this.sql``;
    return this.sql<WebhookRow[]>`
      SELECT ${this.sql.unsafe(WEBHOOK_COLUMNS)} FROM webhooks ${where}
      ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`;
  }

  /**
   * Deletes the webhook and its deliveries: none is sent any more (one in flight is not recorded).
   * A terminal write that saw the webhook may still add one afterwards; the dispatcher drops it.
   */
  async delete(id: string): Promise<boolean> {
    const rows = await this.sql`
      WITH w AS (DELETE FROM webhooks WHERE id = ${id}::uuid RETURNING id),
           d AS (DELETE FROM webhook_deliveries WHERE webhook_id = ${id}::uuid AND EXISTS (SELECT 1 FROM w))
      SELECT id FROM w`;
    return rows.length > 0;
  }

  /** The webhook's deliveries, newest first; undefined when there is no such webhook. */
  async deliveries(webhookId: string, limit: number, after?: Position): Promise<DeliveryRow[] | undefined> {
    const page = after ? this.sql`AND (created_at, id) < (${after.createdAt}, ${after.id}::uuid)` : this.sql``;
    const [found] = await this.sql`SELECT 1 FROM webhooks WHERE id = ${webhookId}::uuid`;
    if (!found) return undefined;
    return this.sql<DeliveryRow[]>`
      SELECT ${this.sql.unsafe(DELIVERY_COLUMNS)} FROM webhook_deliveries
      WHERE webhook_id = ${webhookId}::uuid ${page}
      ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`;
  }

  /**
   * One rotation batch, in one short transaction: up to `limit` webhooks after `after` (id order)
   * whose secret is in clear or sealed under one of `from`, locked (skipping those another pass
   * holds) and re-sealed by `reseal`; one it cannot re-seal (undefined) stays as it is.
   */
  async resealBatch(
    from: string[],
    after: string,
    limit: number,
    reseal: (id: string, stored: StoredWebhookSecret) => Sealed | undefined,
    topic?: string,
  ): Promise<{ seen: string[]; resealed: number }> {
    const ofTopic = topic === undefined ? this.sql`` : this.sql`AND topic = ${topic}`;
    return this.sql.begin(async (tx) => {
      const rows = await tx<(StoredWebhookSecret & { id: string })[]>`
        SELECT id, secret, secret_key_id, secret_nonce, secret_ciphertext FROM webhooks
        WHERE (secret IS NOT NULL OR secret_key_id = ANY(${pgArray(from)}::text[])) AND id > ${after}::uuid ${ofTopic}
        ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
      let resealed = 0;
      for (const row of rows) {
        const s = reseal(row.id, row);
        if (!s) continue;
        await tx`
          UPDATE webhooks SET secret = NULL, secret_key_id = ${s.key_id}, secret_nonce = ${s.nonce}, secret_ciphertext = ${s.ciphertext}
          WHERE id = ${row.id}::uuid`;
        resealed++;
      }
      return { seen: rows.map((r) => r.id), resealed };
    });
  }

  /** How many secrets each key seals; those still in clear under "(clear)". */
  async countByKey(topic?: string): Promise<Map<string, number>> {
    const ofTopic = topic === undefined ? this.sql`` : this.sql`WHERE topic = ${topic}`;
    const rows = await this.sql<{ key_id: string; n: number }[]>`
      SELECT coalesce(secret_key_id, '(clear)') AS key_id, count(*)::int AS n FROM webhooks ${ofTopic} GROUP BY 1`;
    return new Map(rows.map((r) => [r.key_id, r.n]));
  }
}
