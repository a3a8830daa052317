import { workflowInputErrors } from "@wf/contract/workflow-errors";
import { WorkflowVersion, WorkflowVersionPage } from "@wf/contract/workflow-versions";
import { Workflow, WorkflowInput, WorkflowPage } from "@wf/contract/workflows";
import type { DefinitionLimits } from "@wf/core/workflows";
import { Elysia } from "elysia";
import type { BodyErrors } from "../../http/errors.ts";

/** The contract's workflow schemas, named for the routes and the OpenAPI document. */
export const workflowModels = new Elysia({ name: "workflows.model" }).model({
  "workflow.input": WorkflowInput,
  workflow: Workflow,
  "workflow.page": WorkflowPage,
  "workflow.version": WorkflowVersion,
  "workflow.version.page": WorkflowVersionPage,
});

/** A workflow body that breaks its schema inside the steps is answered with the core's field errors. */
export const workflowBodyErrors = (limits: DefinitionLimits): BodyErrors => ({
  schema: WorkflowInput,
  explain: (body, errors) => workflowInputErrors(body, errors, limits),
});
