import { API_SECURITY, apiProblemResponses, requiresScope } from "@wf/contract/problem";
import { VersionParams } from "@wf/contract/workflow-versions";
import { IdParams, PageQuery, WorkflowInput } from "@wf/contract/workflows";
import type { ApiServices } from "@wf/services/api-services";
import { Elysia, t } from "elysia";
import { singleValuedQuery } from "../../http/request-hooks.ts";
import { jsonResponse } from "../../http/responses.ts";
import { workflowModels } from "./model.ts";

export const workflowsController = ({ workflows }: ApiServices) =>
  new Elysia({ name: "workflows", prefix: "/api/v1/workflows", detail: { tags: ["workflows"], security: API_SECURITY } })
    .use(workflowModels)
    .post("", async ({ body, status }) => status(201, await workflows.create(body)), {
      body: WorkflowInput,
      parse: "json",
      response: { 201: "workflow", ...apiProblemResponses(400, 413, 415, 422) },
      detail: { summary: "Create a workflow", ...requiresScope("workflows:write") },
    })
    .get("", async ({ query, set }) => jsonResponse(await workflows.list(query), set), {
      query: PageQuery,
      beforeHandle: singleValuedQuery,
      response: { 200: "workflow.page", ...apiProblemResponses(400) },
      detail: { summary: "List workflows, newest first", ...requiresScope("workflows:read") },
    })
    .get("/:id", ({ params }) => workflows.get(params.id), {
      params: IdParams,
      response: { 200: "workflow", ...apiProblemResponses(404) },
      detail: { summary: "Get a workflow (cached)", ...requiresScope("workflows:read") },
    })
    .put("/:id", ({ params, body }) => workflows.replace(params.id, body), {
      params: IdParams,
      body: WorkflowInput,
      parse: "json",
      response: { 200: "workflow", ...apiProblemResponses(400, 404, 413, 415, 422) },
      detail: {
        summary: "Replace a workflow's definition; its version goes up by one",
        ...requiresScope("workflows:write"),
        description: "The new definition is also kept as a version of its own (GET /api/v1/workflows/{id}/versions/{version}).",
      },
    })
    .get("/:id/versions", async ({ params, query, set }) => jsonResponse(await workflows.versions(params.id, query), set), {
      params: IdParams,
      query: PageQuery,
      beforeHandle: singleValuedQuery,
      response: { 200: "workflow.version.page", ...apiProblemResponses(400, 404) },
      detail: {
        summary: "List a workflow's versions, newest first",
        ...requiresScope("workflows:read"),
        description:
          "Every definition the workflow has had: version 1 from its create, one more per replace. Versions replaced before the service kept them are absent: such a workflow's history starts at the version it had then. A run executes the version it was triggered with (its workflow_version), whatever is written afterwards.",
      },
    })
    .get("/:id/versions/:version", ({ params }) => workflows.version(params.id, params.version), {
      params: VersionParams,
      response: { 200: "workflow.version", ...apiProblemResponses(404) },
      detail: { summary: "Get one version of a workflow's definition", ...requiresScope("workflows:read") },
    })
    .delete(
      "/:id",
      async ({ params, status }) => {
        await workflows.remove(params.id);
        return status(204, undefined);
      },
      {
        params: IdParams,
        // A body sent anyway is parsed, as on every route: 400, 413, 415 are possible here too.
        response: { 204: t.Void(), ...apiProblemResponses(400, 404, 413, 415) },
        detail: {
          summary: "Delete a workflow; its runs stay",
          ...requiresScope("workflows:write"),
          description:
            "The workflow and all its versions are deleted: it can no longer be triggered, and it and its versions answer 404. Its runs stay, each with the definition it was triggered with and its workflow_version.",
        },
      },
    );
