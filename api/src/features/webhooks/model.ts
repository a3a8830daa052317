import { CreatedWebhook, Delivery, DeliveryPage, Webhook, WebhookInput, WebhookPage } from "@wf/contract/webhooks";
import { Elysia } from "elysia";

/** The contract's webhook schemas, named for the routes and the OpenAPI document. */
export const webhookModels = new Elysia({ name: "webhooks.model" }).model({
  "webhook.input": WebhookInput,
  webhook: Webhook,
  "webhook.created": CreatedWebhook,
  "webhook.page": WebhookPage,
  "webhook.delivery": Delivery,
  "webhook.delivery.page": DeliveryPage,
});
