import { t } from "elysia";
import { integer, responseOnly } from "./types.ts";
import { ShownFlowFields, StoredStep } from "./workflows.ts";

export const WorkflowVersion = responseOnly(
  t.Object(
    {
      workflow_id: t.String({ format: "uuid" }),
      version: integer({ minimum: 1 }),
      name: t.String(),
      description: t.Nullable(t.String()),
      steps: t.Array(StoredStep),
      ...ShownFlowFields,
      created_at: t.String({ format: "date-time", description: "When this version was written: the create (version 1) or the replace" }),
    },
    { description: "One version of a workflow's definition, as its create or one of its replaces wrote it; never changed afterwards" },
  ),
);

export const WorkflowVersionPage = responseOnly(t.Object({ items: t.Array(WorkflowVersion), next_cursor: t.Nullable(t.String()) }));

export const VersionParams = t.Object({
  id: t.String({ description: "UUIDv7; a malformed id is a 404" }),
  version: t.String({ description: "The version number, from 1; anything that cannot be one (0, -1, 1.5, abc) is a 404" }),
});
