import { DELIVERY_STATUSES, MAX_RESPONSE_EXCERPT, MAX_WEBHOOK_URL_LENGTH, WEBHOOK_EVENTS } from "@wf/core/webhooks";
import { t } from "elysia";
import { integer, oneOf, responseOnly } from "./types.ts";

const Timestamp = t.String({ format: "date-time" });
const Event = oneOf([...WEBHOOK_EVENTS]);

export const WebhookInput = t.Object(
  {
    url: t.String({
      minLength: 1,
      maxLength: MAX_WEBHOOK_URL_LENGTH,
      description:
        "Where deliveries are POSTed: an absolute http or https URL. It must pass the egress policy of http steps (no private, loopback, link-local or metadata address unless EGRESS_ALLOW opens it): checked here (a 422 at /url) and again at every delivery, connecting to the address that was checked.",
    }),
    events: t.Array(t.String({ description: `One of ${WEBHOOK_EVENTS.join(", ")}` }), {
      minItems: 1,
      maxItems: WEBHOOK_EVENTS.length,
      description: `The run events to deliver, at least one, each once: ${WEBHOOK_EVENTS.join(", ")}. An unknown or repeated one is a 422.`,
    }),
    workflow_id: t.Optional(
      t.String({ format: "uuid", description: "Only runs of this workflow; absent: runs of every workflow. An unknown one is a 422." }),
    ),
  },
  { additionalProperties: false },
);

const webhookFields = {
  id: t.String({ format: "uuid" }),
  url: t.String(),
  events: t.Array(Event),
  workflow_id: t.Nullable(t.String({ format: "uuid" })),
  created_at: Timestamp,
};

export const Webhook = responseOnly(t.Object(webhookFields));

export const CreatedWebhook = responseOnly(
  t.Object({
    ...webhookFields,
    secret: t.String({
      description:
        "The signing secret (whsec_ and base64), shown in this answer only: keep it to verify each delivery's webhook-signature (Standard Webhooks).",
    }),
  }),
);

export const WebhookPage = responseOnly(t.Object({ items: t.Array(Webhook), next_cursor: t.Nullable(t.String()) }));

export const DeliveryAttempt = t.Object({
  at: t.String({ format: "date-time", description: "When the attempt was sent" }),
  status_code: t.Nullable(integer({ description: "The receiver's HTTP status; null when none came (error)" })),
  error: t.Nullable(t.String({ description: "Why no answer came: a timeout, a connection error, the egress policy" })),
  duration_ms: integer({ minimum: 0 }),
  response_body: t.Nullable(t.String({ description: `The start of the receiver's answer (${MAX_RESPONSE_EXCERPT} bytes at most)` })),
});

export const Delivery = responseOnly(
  t.Object({
    id: t.String({ format: "uuid", description: "The webhook-id header of each of its attempts" }),
    webhook_id: t.String({ format: "uuid" }),
    event: Event,
    run_id: t.String({ format: "uuid" }),
    status: oneOf([...DELIVERY_STATUSES], {
      description: "pending (to be sent, or sent again), delivered (a 2xx answer), failed (no 2xx within WEBHOOK_RETRY_MAX_AGE_MS)",
    }),
    attempt_count: integer({ minimum: 0 }),
    next_attempt_at: t.Nullable(t.String({ format: "date-time", description: "When it is sent (again); null once delivered or failed" })),
    attempts: t.Array(DeliveryAttempt, { description: "Every recorded attempt, oldest first" }),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
);

export const DeliveryPage = responseOnly(t.Object({ items: t.Array(Delivery), next_cursor: t.Nullable(t.String()) }));
