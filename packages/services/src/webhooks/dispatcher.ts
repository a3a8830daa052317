import { toStorableText } from "@wf/core/json";
import type { RunStatus } from "@wf/core/runs";
import {
  type DeliveryAttempt,
  MAX_RESPONSE_EXCERPT,
  nextRetryMs,
  type RetryPolicy,
  type WebhookEvent,
  webhookPayload,
} from "@wf/core/webhooks";
import { type EgressPolicy, egressFetch } from "@wf/platform/egress";
import type { Logger } from "@wf/platform/observability";
import { errorFields } from "@wf/platform/observability";
import { type Periodic, startPeriodic } from "@wf/platform/process";
import type { Keyring } from "@wf/platform/secrets";
import { pgArray, type Sql } from "@wf/platform/sql";
import { Webhook } from "standardwebhooks";
import { openWebhookSecret, type StoredWebhookSecret } from "./secret-seal.ts";

export interface DispatcherOptions {
  /** The runs topic of this worker group: only its webhooks' deliveries are sent. */
  topic: string;
  /** Who takes a delivery (a worker): its attempt is recorded only while it still holds it. */
  owner: string;
  pollMs: number;
  /** Sends at once, at most. */
  concurrency: number;
  timeoutMs: number;
  retry: RetryPolicy;
}

/** What the dispatcher did, for the worker's metrics. */
export interface DispatchStats {
  delivered: number;
  failedAttempts: number;
  failed: number;
}

/** A delivery taken, with what its send needs: the webhook's url and stored secret, the run's summary (null: no such run). */
interface Taken extends StoredWebhookSecret {
  id: string;
  webhook_id: string;
  event: WebhookEvent;
  attempts: number;
  created_at: Date;
  url: string | null;
  run_id: string | null;
  workflow_id: string;
  workflow_version: number;
  run_status: RunStatus;
  output: unknown;
  error: string | null;
  run_created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

/** An attempt's outcome as recorded: delivered, another attempt in `retryInMs`, or failed for good (null). */
interface Outcome {
  id: string;
  attempt: DeliveryAttempt;
  delivered: boolean;
  retryInMs: number | null;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Sends the webhook deliveries that the runs' terminal writes enqueued (see enqueueWebhooks); every
 * worker runs one. A pass takes due deliveries of this topic (FOR UPDATE SKIP LOCKED, so two
 * workers never take the same one), at most as many as it has free places, and moves each one's
 * `next_attempt_at` twice the send timeout ahead: that is its lease. If the worker dies mid-send,
 * the delivery is due again once that time has passed and any worker sends it again, with the same
 * `webhook-id` (at least once). Each attempt is recorded with its outcome: a 2xx delivers it;
 * anything else (another status, a timeout, a refusal of the egress policy) schedules the next
 * attempt (nextRetryMs) or, once the delivery is old enough, fails it.
 *
 * Each attempt is signed as Standard Webhooks says (`webhook-id`, `webhook-timestamp` of the
 * attempt, `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`), with the
 * `standardwebhooks` library that receivers verify with; the body is the same bytes every time.
 */
export class WebhookDispatcher {
  private periodic: Periodic | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  readonly stats: DispatchStats = { delivered: 0, failedAttempts: 0, failed: 0 };

  constructor(
    private readonly sql: Sql,
    private readonly egress: EgressPolicy,
    private readonly log: Logger,
    private readonly opts: DispatcherOptions,
    /** Opens the webhooks' sealed signing secrets (the secrets' keys). */
    private readonly keyring: Keyring,
  ) {}

  start(): void {
    this.periodic = startPeriodic(
      async () => {
        const free = this.opts.concurrency - this.inFlight.size;
        // Every place taken: look again soon, without a query, for one that came free.
        if (free <= 0) return { againInMs: 10 };
        const taken = await this.take(free);
        for (const d of taken) {
          const send = this.send(d)
            .catch((err) => this.log.warn("webhook delivery not recorded", { delivery_id: d.id, ...errorFields(err) }))
            .finally(() => this.inFlight.delete(send));
          this.inFlight.add(send);
        }
        // A full batch: more may be due now.
        return taken.length === free ? { againInMs: 0 } : undefined;
      },
      this.opts.pollMs,
      (err) => this.log.warn("webhook dispatch pass failed", errorFields(err)),
      { immediate: true },
    );
  }

  /** Stops taking deliveries and waits for the sends in flight (each bounded by the timeout) to be recorded. */
  async stop(): Promise<void> {
    this.periodic?.stop();
    await Promise.allSettled([...this.inFlight]);
  }

  /** Takes up to `n` due deliveries; drops those whose webhook was deleted meanwhile. */
  async take(n: number): Promise<Taken[]> {
    const o = this.opts;
    const rows = await this.sql<Taken[]>`
      WITH taken AS (
        UPDATE webhook_deliveries d
        SET next_attempt_at = now() + make_interval(secs => ${(2 * o.timeoutMs) / 1000}), lease_owner = ${o.owner}, updated_at = now()
        WHERE d.id IN (SELECT id FROM webhook_deliveries
                       WHERE topic = ${o.topic} AND status = 'pending' AND next_attempt_at <= now()
                       ORDER BY next_attempt_at LIMIT ${n}
                       FOR UPDATE SKIP LOCKED)
        RETURNING d.id, d.webhook_id, d.event, d.run_id, d.attempts, d.created_at
      )
      SELECT t.id, t.webhook_id, t.event, t.attempts, t.created_at, w.url,
             w.secret, w.secret_key_id, w.secret_nonce, w.secret_ciphertext,
             r.id AS run_id, r.workflow_id, r.workflow_version, r.status AS run_status, r.output, r.error,
             r.created_at AS run_created_at, r.started_at, r.finished_at
      FROM taken t
      LEFT JOIN webhooks w ON w.id = t.webhook_id
      LEFT JOIN runs r ON r.id = t.run_id`;
    const orphans = rows.filter((r) => r.url === null).map((r) => r.id);
    if (orphans.length > 0) await this.sql`DELETE FROM webhook_deliveries WHERE id = ANY(${pgArray(orphans)}::uuid[])`;
    return rows.filter((r) => r.url !== null);
  }

  /** One attempt of a delivery, and its record. */
  async send(d: Taken): Promise<void> {
    const at = new Date();
    let attempt: DeliveryAttempt;
    if (d.run_id === null) {
      attempt = { at: at.toISOString(), status_code: null, error: "the run no longer exists", duration_ms: 0, response_body: null };
      return this.record({ id: d.id, attempt, delivered: false, retryInMs: null });
    }
    let secret: string;
    try {
      secret = openWebhookSecret(this.keyring, d.webhook_id, d);
    } catch (err) {
      // A key missing from this worker's SECRETS_KEYS: retried like a failed send, in case another worker holds it.
      attempt = { at: at.toISOString(), status_code: null, error: `cannot sign: ${message(err)}`, duration_ms: 0, response_body: null };
      const retryInMs = nextRetryMs(d.attempts + 1, Date.now() - d.created_at.getTime(), this.opts.retry);
      return this.record({ id: d.id, attempt, delivered: false, retryInMs });
    }
    const body = webhookPayload(d.event, {
      id: d.run_id,
      workflow_id: d.workflow_id,
      workflow_version: d.workflow_version,
      status: d.run_status,
      output: d.output,
      error: d.error,
      created_at: d.run_created_at,
      started_at: d.started_at,
      finished_at: d.finished_at,
    });
    const headers = {
      "content-type": "application/json",
      "user-agent": "workflow-service-webhooks",
      "webhook-id": d.id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(secret).sign(d.id, at, body),
    };
    const started = performance.now();
    try {
      const res = await egressFetch(new URL(d.url!), this.egress, {
        method: "POST",
        headers,
        body,
        timeoutMs: this.opts.timeoutMs,
        maxResponseBytes: MAX_RESPONSE_EXCERPT,
        truncate: true,
      });
      attempt = {
        at: at.toISOString(),
        status_code: res.status,
        error: null,
        duration_ms: Math.round(performance.now() - started),
        // The receiver's answer is stored in attempt_log (jsonb): what PostgreSQL cannot store is replaced.
        response_body: toStorableText(new TextDecoder().decode(res.body)),
      };
    } catch (err) {
      attempt = {
        at: at.toISOString(),
        status_code: null,
        error: message(err),
        duration_ms: Math.round(performance.now() - started),
        response_body: null,
      };
    }
    const delivered = attempt.status_code !== null && attempt.status_code >= 200 && attempt.status_code < 300;
    const retryInMs = delivered ? null : nextRetryMs(d.attempts + 1, Date.now() - d.created_at.getTime(), this.opts.retry);
    await this.record({ id: d.id, attempt, delivered, retryInMs });
  }

  /** Records an attempt if the delivery is still this worker's (not taken over, not deleted with its webhook). */
  private async record(o: Outcome): Promise<void> {
    const status = o.delivered ? "delivered" : o.retryInMs === null ? "failed" : "pending";
    const rows = await this.sql`
      UPDATE webhook_deliveries
      SET attempts = attempts + 1, attempt_log = attempt_log || ${this.sql.json([o.attempt] as never)}::jsonb, status = ${status},
          next_attempt_at = CASE WHEN ${o.retryInMs}::float8 IS NULL THEN NULL
                                 ELSE now() + make_interval(secs => ${o.retryInMs}::float8 / 1000) END,
          lease_owner = NULL, updated_at = now()
      WHERE id = ${o.id}::uuid AND status = 'pending' AND lease_owner = ${this.opts.owner}
      RETURNING 1`;
    if (rows.length === 0) return;
    if (status === "delivered") this.stats.delivered++;
    else {
      this.stats.failedAttempts++;
      if (status === "failed") {
        this.stats.failed++;
        this.log.warn("webhook delivery failed for good", {
          delivery_id: o.id,
          error: o.attempt.error,
          status_code: o.attempt.status_code,
        });
      }
    }
  }
}
