import type { FieldError } from "../errors.ts";
import type { RunStatus } from "../runs/index.ts";

/** The run events a webhook may ask for: a run's terminal states. */
export const WEBHOOK_EVENTS = ["run.completed", "run.failed", "run.cancelled"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const MAX_WEBHOOK_URL_LENGTH = 2048;
/** Bytes of a receiver's answer kept with each attempt, for the deliveries list. */
export const MAX_RESPONSE_EXCERPT = 1024;

/** A webhook as `POST /api/v1/webhooks` takes it. */
export interface WebhookInput {
  url: string;
  events: string[];
  workflow_id?: string;
}

/** A webhook as the API shows it; its secret only in the answer to its creation. */
export interface Webhook {
  id: string;
  url: string;
  events: WebhookEvent[];
  workflow_id: string | null;
  created_at: string;
}

export interface WebhookRow extends Omit<Webhook, "created_at"> {
  created_at: Date;
}

export interface WebhookSpec {
  url: URL;
  events: WebhookEvent[];
  workflow_id: string | null;
}

/** One send of a delivery, as recorded: an HTTP status, or the error that left none. */
export interface DeliveryAttempt {
  at: string;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  /** The start of the receiver's answer (MAX_RESPONSE_EXCERPT bytes), as text. */
  response_body: string | null;
}

export interface Delivery {
  id: string;
  webhook_id: string;
  event: WebhookEvent;
  run_id: string;
  status: DeliveryStatus;
  attempt_count: number;
  /** When it is sent (again); null once delivered or failed. */
  next_attempt_at: string | null;
  attempts: DeliveryAttempt[];
  created_at: string;
  updated_at: string;
}

export interface DeliveryRow extends Omit<Delivery, "next_attempt_at" | "created_at" | "updated_at" | "attempt_count" | "attempts"> {
  attempts: number;
  attempt_log: DeliveryAttempt[];
  next_attempt_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export const toWebhook = (r: WebhookRow): Webhook => ({
  id: r.id,
  url: r.url,
  events: r.events,
  workflow_id: r.workflow_id,
  created_at: r.created_at.toISOString(),
});

export const toDelivery = (r: DeliveryRow): Delivery => ({
  id: r.id,
  webhook_id: r.webhook_id,
  event: r.event,
  run_id: r.run_id,
  status: r.status,
  attempt_count: r.attempts,
  next_attempt_at: r.status === "pending" && r.next_attempt_at ? r.next_attempt_at.toISOString() : null,
  attempts: r.attempt_log,
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
});

/**
 * What the HTTP schema cannot say: the url is an absolute http(s) URL, the events are known and
 * each named once. The egress policy (an I/O check) is the service's.
 */
export function validateWebhook(input: WebhookInput): { spec: WebhookSpec; errors?: undefined } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  let url: URL | undefined;
  try {
    url = new URL(input.url);
  } catch {
    errors.push({ path: "/url", message: "must be an absolute URL" });
  }
  if (url && url.protocol !== "http:" && url.protocol !== "https:")
    errors.push({ path: "/url", message: `must be an http or https URL, not ${url.protocol}` });
  if (input.url.length > MAX_WEBHOOK_URL_LENGTH)
    errors.push({ path: "/url", message: `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters` });
  if (input.events.length === 0) errors.push({ path: "/events", message: "must name at least one event" });
  const seen = new Set<string>();
  input.events.forEach((e, i) => {
    if (!(WEBHOOK_EVENTS as readonly string[]).includes(e))
      errors.push({ path: `/events/${i}`, message: `unknown event ${JSON.stringify(e)}: the events are ${WEBHOOK_EVENTS.join(", ")}` });
    else if (seen.has(e)) errors.push({ path: `/events/${i}`, message: `${e} is named twice` });
    seen.add(e);
  });
  if (errors.length > 0 || !url) return { errors };
  return { spec: { url, events: [...seen] as WebhookEvent[], workflow_id: input.workflow_id ?? null } };
}

/** The run as a webhook's payload shows it: its summary, without its steps. */
export interface RunSummary {
  id: string;
  workflow_id: string;
  workflow_version: number;
  status: RunStatus;
  output: unknown;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

/**
 * The body of every attempt of a delivery, the same bytes each time (Standard Webhooks: `type`,
 * `timestamp` of the event, `data`); the attempt's own time is in the `webhook-timestamp` header.
 */
export function webhookPayload(event: WebhookEvent, run: RunSummary): string {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return JSON.stringify({
    type: event,
    timestamp: iso(run.finished_at ?? run.created_at),
    data: {
      id: run.id,
      workflow_id: run.workflow_id,
      workflow_version: run.workflow_version,
      status: run.status,
      output: run.output ?? null,
      error: run.error,
      created_at: iso(run.created_at),
      started_at: iso(run.started_at),
      finished_at: iso(run.finished_at),
    },
  });
}
