import { API_SECURITY, apiProblemResponses, requiresScope } from "@wf/contract/problem";
import { SecretInput, SecretParams } from "@wf/contract/secrets";
import { PageQuery } from "@wf/contract/workflows";
import type { ApiServices } from "@wf/services/api-services";
import { Elysia, t } from "elysia";
import { singleValuedQuery } from "../../http/request-hooks.ts";
import { jsonResponse } from "../../http/responses.ts";
import { secretModels } from "./model.ts";

const USE =
  "An http step reads it as {{secrets.NAME}} in its url, headers or body (anywhere else is a 422 when the workflow is stored), resolved by the worker as it sends the request; whatever the server answers is stored with every spelling of the value replaced by [redacted].";

// Listing needs secrets:write too: the names tell which systems workflows reach, and a key that
// may only read workflows or runs has no use for them.
export const secretsController = ({ secrets }: ApiServices) =>
  new Elysia({ name: "secrets", prefix: "/api/v1/secrets", detail: { tags: ["secrets"], security: API_SECURITY } })
    .use(secretModels)
    .put(
      "/:name",
      async ({ params, body, status }) => {
        await secrets.put(params.name, body.value);
        return status(204, undefined);
      },
      {
        params: SecretParams,
        body: SecretInput,
        parse: "json",
        response: { 204: t.Void(), ...apiProblemResponses(400, 413, 415, 422) },
        detail: {
          summary: "Create or replace a secret",
          ...requiresScope("secrets:write"),
          description: `Encrypted at rest with AES-256-GCM under the active SECRETS_KEYS key; the value is never shown again. ${USE} A replaced value is what the next http step attempt sends (workers do not cache values).`,
        },
      },
    )
    .get("", async ({ query, set }) => jsonResponse(await secrets.list(query), set), {
      query: PageQuery,
      beforeHandle: singleValuedQuery,
      response: { 200: "secret.page", ...apiProblemResponses(400) },
      detail: {
        summary: "List secrets, newest first: names, key ids and times, never values",
        ...requiresScope("secrets:write"),
      },
    })
    .delete(
      "/:name",
      async ({ params, status }) => {
        await secrets.remove(params.name);
        return status(204, undefined);
      },
      {
        params: SecretParams,
        response: { 204: t.Void(), ...apiProblemResponses(400, 404, 413, 415, 422) },
        detail: {
          summary: "Delete a secret",
          ...requiresScope("secrets:write"),
          description:
            "An unknown name is a 404. Workflows that read it stay as they are; their http steps that read it fail (not retried) until it is set again.",
        },
      },
    );
