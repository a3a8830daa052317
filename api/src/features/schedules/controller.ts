import { API_SECURITY, apiProblemResponses, requiresScope } from "@wf/contract/problem";
import { ScheduleInput } from "@wf/contract/schedules";
import { IdParams, PageQuery } from "@wf/contract/workflows";
import type { ApiServices } from "@wf/services/api-services";
import { Elysia, t } from "elysia";
import { singleValuedQuery } from "../../http/request-hooks.ts";
import { jsonResponse } from "../../http/responses.ts";
import { scheduleModels } from "./model.ts";

const EXACTLY_ONCE =
  "Each tick starts exactly one run (idempotency key schedule:<id>:<tick time>, the run's schedule_id set), whatever the number of API replicas and workers, restarts or kills. Ticks found at most SCHEDULE_MISFIRE_MS late each start their run; older ones, missed while no worker ran, start one run together, for the latest of them.";

export const schedulesController = ({ schedules }: ApiServices) =>
  new Elysia({ name: "schedules", prefix: "/api/v1/schedules", detail: { tags: ["schedules"], security: API_SECURITY } })
    .use(scheduleModels)
    .post("", async ({ body, status }) => status(201, await schedules.create(body)), {
      body: ScheduleInput,
      parse: "json",
      response: { 201: "schedule", ...apiProblemResponses(400, 413, 415, 422) },
      detail: {
        summary: "Create a schedule: runs of a workflow on a cron expression, in a time zone",
        ...requiresScope("runs:write"),
        description: `Answers with next_run_at, its first tick. ${EXACTLY_ONCE} An unknown workflow is a 422 at /workflow_id; an invalid cron expression or time zone a 422 at /cron or /timezone.`,
      },
    })
    .get("", async ({ query, set }) => jsonResponse(await schedules.list(query), set), {
      query: PageQuery,
      beforeHandle: singleValuedQuery,
      response: { 200: "schedule.page", ...apiProblemResponses(400) },
      detail: { summary: "List schedules, newest first", ...requiresScope("runs:read") },
    })
    .get("/:id", ({ params }) => schedules.get(params.id), {
      params: IdParams,
      response: { 200: "schedule", ...apiProblemResponses(404) },
      detail: { summary: "Get a schedule, with its next tick and what its latest tick did", ...requiresScope("runs:read") },
    })
    .put("/:id", ({ params, body }) => schedules.replace(params.id, body), {
      params: IdParams,
      body: ScheduleInput,
      parse: "json",
      response: { 200: "schedule", ...apiProblemResponses(400, 404, 413, 415, 422) },
      detail: {
        summary: "Replace a schedule's definition",
        ...requiresScope("runs:write"),
        description:
          "Absent fields take their defaults, as on create. next_run_at stays when the expression, the time zone and enabled stay; otherwise it is the first tick after now (ticks due but not yet started are not started). Runs already started are not changed.",
      },
    })
    .delete(
      "/:id",
      async ({ params, status }) => {
        await schedules.remove(params.id);
        return status(204, undefined);
      },
      {
        params: IdParams,
        response: { 204: t.Void(), ...apiProblemResponses(400, 404, 413, 415) },
        detail: {
          summary: "Delete a schedule; its runs stay",
          ...requiresScope("runs:write"),
          description: "No tick of it starts a run any more. The runs it started stay, with their schedule_id.",
        },
      },
    );
