/**
 * OpenAPI links: which answer gives the id that other operations take, so clients (and a stateful
 * fuzzer such as Schemathesis) can follow a workflow from its creation to its runs. Written by
 * method and path, as people read them; the document's operationIds are looked up when applied.
 */
interface Link {
  /** "METHOD /path" of the operation whose answer is followed. */
  to: string;
  parameters?: Record<string, string>;
  requestBody?: Record<string, string>;
  description: string;
}

const WORKFLOW_ID = { id: "$response.body#/id" };
const RUN_ID = { id: "$response.body#/run_id" };
const SCHEDULE_ID = { id: "$response.body#/id" };
const NEXT_PAGE = { cursor: "$response.body#/next_cursor" };

/** By "METHOD /path status" of the answer that holds the value. */
export const LINKS: Record<string, Record<string, Link>> = {
  "POST /api/v1/workflows 201": {
    GetWorkflow: { to: "GET /api/v1/workflows/{id}", parameters: WORKFLOW_ID, description: "The workflow just created" },
    ReplaceWorkflow: { to: "PUT /api/v1/workflows/{id}", parameters: WORKFLOW_ID, description: "Replace it (a new version)" },
    DeleteWorkflow: { to: "DELETE /api/v1/workflows/{id}", parameters: WORKFLOW_ID, description: "Delete it" },
    ListVersions: { to: "GET /api/v1/workflows/{id}/versions", parameters: WORKFLOW_ID, description: "Its versions" },
    GetFirstVersion: {
      to: "GET /api/v1/workflows/{id}/versions/{version}",
      parameters: { id: "$response.body#/id", version: "$response.body#/version" },
      description: "The version just stored",
    },
    Trigger: { to: "POST /api/v1/trigger", requestBody: { workflow_id: "$response.body#/id" }, description: "Start a run of it" },
    ListRuns: { to: "GET /api/v1/runs", parameters: { workflow_id: "$response.body#/id" }, description: "Its runs" },
    Schedule: { to: "POST /api/v1/schedules", requestBody: { workflow_id: "$response.body#/id" }, description: "Run it on a cron" },
  },
  "POST /api/v1/trigger 202": {
    GetRun: { to: "GET /api/v1/runs/{id}", parameters: RUN_ID, description: "The run just triggered" },
    CancelRun: { to: "POST /api/v1/runs/{id}/cancel", parameters: RUN_ID, description: "Cancel it" },
    SignalRun: { to: "POST /api/v1/runs/{id}/signals/{name}", parameters: RUN_ID, description: "Send it a signal" },
    ReplayRun: { to: "POST /api/v1/runs/{id}/replay", parameters: RUN_ID, description: "Replay it once it is finished" },
    RunEvents: { to: "GET /api/v1/runs/{id}/events", parameters: RUN_ID, description: "Follow it live" },
  },
  "POST /api/v1/schedules 201": {
    GetSchedule: { to: "GET /api/v1/schedules/{id}", parameters: SCHEDULE_ID, description: "The schedule just created" },
    ReplaceSchedule: { to: "PUT /api/v1/schedules/{id}", parameters: SCHEDULE_ID, description: "Replace it" },
    DeleteSchedule: { to: "DELETE /api/v1/schedules/{id}", parameters: SCHEDULE_ID, description: "Delete it" },
  },
  "POST /api/v1/webhooks 201": {
    GetWebhook: { to: "GET /api/v1/webhooks/{id}", parameters: { id: "$response.body#/id" }, description: "The webhook just created" },
    ListDeliveries: { to: "GET /api/v1/webhooks/{id}/deliveries", parameters: { id: "$response.body#/id" }, description: "Its deliveries" },
    DeleteWebhook: { to: "DELETE /api/v1/webhooks/{id}", parameters: { id: "$response.body#/id" }, description: "Delete it" },
  },
  "GET /api/v1/secrets 200": {
    NextPage: { to: "GET /api/v1/secrets", parameters: NEXT_PAGE, description: "The next page" },
    DeleteFirst: {
      to: "DELETE /api/v1/secrets/{name}",
      parameters: { name: "$response.body#/items/0/name" },
      description: "Delete the first secret listed",
    },
  },
  "GET /api/v1/webhooks 200": { NextPage: { to: "GET /api/v1/webhooks", parameters: NEXT_PAGE, description: "The next page" } },
  "GET /api/v1/workflows 200": { NextPage: { to: "GET /api/v1/workflows", parameters: NEXT_PAGE, description: "The next page" } },
  "GET /api/v1/runs 200": { NextPage: { to: "GET /api/v1/runs", parameters: NEXT_PAGE, description: "The next page" } },
  "GET /api/v1/schedules 200": { NextPage: { to: "GET /api/v1/schedules", parameters: NEXT_PAGE, description: "The next page" } },
};

interface Operation {
  operationId?: string;
  responses?: Record<string, { links?: Record<string, unknown> }>;
}

/**
 * Adds LINKS to the document's answers. A link whose either end the document lacks is left out
 * (a server that serves part of the API publishes only the links among what it serves).
 */
export function addLinks(paths: Record<string, Record<string, Operation>>): void {
  const op = (key: string): Operation | undefined => {
    const [method, path] = key.split(" ") as [string, string];
    return paths[path]?.[method.toLowerCase()];
  };
  for (const [from, links] of Object.entries(LINKS)) {
    const [method, path, status] = from.split(" ") as [string, string, string];
    const response = op(`${method} ${path}`)?.responses?.[status];
    if (!response) continue;
    for (const [name, { to, ...link }] of Object.entries(links)) {
      const operationId = op(to)?.operationId;
      if (operationId) response.links = { ...response.links, [name]: { operationId, ...link } };
    }
  }
}
