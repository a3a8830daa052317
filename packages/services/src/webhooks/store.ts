import type { Position } from "@wf/core/pagination";
import type { DeliveryRow, WebhookEvent, WebhookRow } from "@wf/core/webhooks";
import { pgArray, type Sql } from "@wf/platform/sql";

// The driver knows no array types (fetch_types off): the events come back as JSON.
const WEBHOOK_COLUMNS = "id, url, to_jsonb(events) AS events, workflow_id, created_at";
const DELIVERY_COLUMNS = "id, webhook_id, event, run_id, status, attempts, attempt_log, next_attempt_at, created_at, updated_at";

export interface NewWebhook {
  id: string;
  url: string;
  events: WebhookEvent[];
  workflowId: string | null;
  secret: string;
  topic: string;
  now: Date;
}

export class WebhookStore {
  constructor(private readonly sql: Sql) {}

  /** The new webhook, in one statement that checks its workflow exists; undefined when it does not. */
  async insert(w: NewWebhook): Promise<WebhookRow | undefined> {
    const [row] = await this.sql<WebhookRow[]>`
      INSERT INTO webhooks (id, url, events, workflow_id, secret, topic, created_at)
      SELECT ${w.id}::uuid, ${w.url}, ${pgArray(w.events)}::text[], ${w.workflowId}::uuid, ${w.secret}, ${w.topic}, ${w.now}
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
}
