import { API_SECURITY, apiProblemResponses, requiresScope } from "@wf/contract/problem";
import { WebhookInput } from "@wf/contract/webhooks";
import { IdParams, PageQuery } from "@wf/contract/workflows";
import type { ApiServices } from "@wf/services/api-services";
import { Elysia, t } from "elysia";
import { singleValuedQuery } from "../../http/request-hooks.ts";
import { jsonResponse } from "../../http/responses.ts";
import { webhookModels } from "./model.ts";

const DELIVERY =
  "Each run that ends with an event a webhook asks for (of its workflow, or of any) is delivered to it: a POST of {type, timestamp, data: the run without its steps}, signed as Standard Webhooks says (webhook-id: the delivery's id, the same on every retry; webhook-timestamp; webhook-signature: v1,<base64 HMAC-SHA256>). The delivery is written with the run's end, in one statement. A 2xx answer delivers it; otherwise it is retried after WEBHOOK_RETRY_BASE_MS (5 s), then 5 min, 30 min, 2 h, 5 h, 10 h and every 10 h (±20 %) until it is WEBHOOK_RETRY_MAX_AGE_MS (24 h) old, then it has failed. At least once: a receiver may get one twice, and should use webhook-id to drop the second.";

export const webhooksController = ({ webhooks }: ApiServices) =>
  new Elysia({ name: "webhooks", prefix: "/api/v1/webhooks", detail: { tags: ["webhooks"], security: API_SECURITY } })
    .use(webhookModels)
    .post("", async ({ body, status }) => status(201, await webhooks.create(body)), {
      body: WebhookInput,
      parse: "json",
      response: { 201: "webhook.created", ...apiProblemResponses(400, 413, 415, 422) },
      detail: {
        summary: "Create a webhook: run events delivered to a URL",
        ...requiresScope("admin"),
        description: `Answers with the signing secret, which no other answer shows. ${DELIVERY} A url the egress policy refuses is a 422 at /url; an unknown workflow a 422 at /workflow_id.`,
      },
    })
    .get("", async ({ query, set }) => jsonResponse(await webhooks.list(query), set), {
      query: PageQuery,
      beforeHandle: singleValuedQuery,
      response: { 200: "webhook.page", ...apiProblemResponses(400) },
      detail: { summary: "List webhooks, newest first (without their secrets)", ...requiresScope("runs:read") },
    })
    .get("/:id", ({ params }) => webhooks.get(params.id), {
      params: IdParams,
      response: { 200: "webhook", ...apiProblemResponses(404) },
      detail: { summary: "Get a webhook (without its secret)", ...requiresScope("runs:read") },
    })
    .get("/:id/deliveries", async ({ params, query, set }) => jsonResponse(await webhooks.deliveries(params.id, query), set), {
      params: IdParams,
      query: PageQuery,
      beforeHandle: singleValuedQuery,
      response: { 200: "webhook.delivery.page", ...apiProblemResponses(400, 404) },
      detail: {
        summary: "List a webhook's deliveries, newest first, with their attempts",
        ...requiresScope("runs:read"),
        description: `Each delivery with its status (pending, delivered, failed), its next attempt and every attempt made: when, the HTTP status or the error, how long, the start of the answer. ${DELIVERY}`,
      },
    })
    .delete(
      "/:id",
      async ({ params, status }) => {
        await webhooks.remove(params.id);
        return status(204, undefined);
      },
      {
        params: IdParams,
        response: { 204: t.Void(), ...apiProblemResponses(400, 404, 413, 415) },
        detail: {
          summary: "Delete a webhook and its deliveries",
          ...requiresScope("admin"),
          description: "Nothing more is sent to it, retries included; an attempt in flight at that moment may still arrive.",
        },
      },
    );
