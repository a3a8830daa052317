import { WorkflowVersion, WorkflowVersionPage } from "@wf/contract/workflow-versions";
import { Workflow, WorkflowInput, WorkflowPage } from "@wf/contract/workflows";
import { Elysia } from "elysia";

/** The contract's workflow schemas, named for the routes and the OpenAPI document. */
export const workflowModels = new Elysia({ name: "workflows.model" }).model({
  "workflow.input": WorkflowInput,
  workflow: Workflow,
  "workflow.page": WorkflowPage,
  "workflow.version": WorkflowVersion,
  "workflow.version.page": WorkflowVersionPage,
});
