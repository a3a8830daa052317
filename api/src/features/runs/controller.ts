import { API_SECURITY, apiProblemResponses, requiresScope } from "@wf/contract/problem";
import {
  BulkCancelInput,
  BulkReplayInput,
  ReplayInput,
  RunEventsQuery,
  RunListQuery,
  SignalParams,
  SignalPayload,
  TriggerInput,
} from "@wf/contract/runs";
import { IdParams } from "@wf/contract/workflows";
import type { ApiServices } from "@wf/services/api-services";
import { Elysia, t } from "elysia";
import { singleValuedQuery, traceHeaders } from "../../http/request-hooks.ts";
import { jsonResponse } from "../../http/responses.ts";
import { runEventsResponse } from "./events.ts";
import { runModels } from "./model.ts";

export const runsController = ({ runs, runEvents }: ApiServices) =>
  new Elysia({ name: "runs", prefix: "/api/v1", detail: { tags: ["runs"], security: API_SECURITY } })
    .use(runModels)
    .post(
      "/trigger",
      async ({ body, status, set, request }) => {
        const { run, created } = await runs.trigger(body, traceHeaders(request));
        if (!created) set.headers["idempotent-replayed"] = "true";
        return status(202, { run_id: run.id, status: run.status });
      },
      {
        body: TriggerInput,
        parse: "json",
        response: { 202: "trigger.accepted", ...apiProblemResponses(400, 404, 409, 413, 415, 422) },
        detail: {
          summary: "Trigger a run of a workflow",
          ...requiresScope("runs:write"),
          description:
            "Stores a pending run and publishes it to Kafka. A repeated idempotency_key returns the earlier run with its current status (header idempotent-replayed: true), whatever input came with the repeat: the key identifies the trigger. The same key for another workflow is a 409. A run with run_at or delay_ms is answered pending too, and stays pending, holding nothing, until its time; so does a run of a workflow with a concurrency limit until a slot is free (the runs of a key start in trigger order).",
        },
      },
    )
    .get("/runs/:id", ({ params }) => runs.get(params.id), {
      params: IdParams,
      response: { 200: "run", ...apiProblemResponses(404) },
      detail: { summary: "Get a run with its step results (cached)", ...requiresScope("runs:read") },
    })
    .get("/runs", async ({ query, set }) => jsonResponse(await runs.list(query), set), {
      query: RunListQuery,
      beforeHandle: singleValuedQuery,
      response: { 200: "run.page", ...apiProblemResponses(400) },
      detail: {
        summary: "List runs, newest first, optionally filtered",
        ...requiresScope("runs:read"),
        description:
          "Filters narrow together: statuses (comma-separated), workflow, schedule, parent run, created range (both bounds exclusive). A cursor is valid only with the filters it was issued for (another set is a 400).",
      },
    })
    .post("/runs/bulk/cancel", ({ body }) => runs.bulkCancel(body), {
      body: BulkCancelInput,
      parse: "json",
      response: { 200: "bulk.result", ...apiProblemResponses(400, 413, 415, 422) },
      detail: {
        summary: "Cancel the runs the list filters match",
        ...requiresScope("runs:write"),
        description:
          "Cancels the pending and running runs the filters match (at least one filter), newest first, at most BULK_MAX_RUNS (10,000 by default) a call: call again while matched is not 0. Each is cancelled as POST /runs/{id}/cancel cancels one, descendants included (they are not counted). matched: runs the filters matched, up to the limit; affected: those this call cancelled (one that finished meanwhile is matched, not affected).",
      },
    })
    .post("/runs/bulk/replay", ({ body, request }) => runs.bulkReplay(body, traceHeaders(request)), {
      body: BulkReplayInput,
      parse: "json",
      response: { 200: "bulk.result", ...apiProblemResponses(400, 413, 415, 422) },
      detail: {
        summary: "Replay the finished runs the list filters match",
        ...requiresScope("runs:write"),
        description:
          "Replays the completed, failed and cancelled runs the filters match (at least one filter), newest first, at most BULK_MAX_RUNS (10,000 by default) a call, each as POST /runs/{id}/replay replays one with its defaults (or from_step). Replays are new runs, so calling again with the same filters replays the same runs again: to go past the limit, narrow the filters (created_before). matched: runs the filters matched, up to the limit; affected: the replays started.",
      },
    })
    .get(
      "/runs/:id/events",
      ({ params, query, request, set, server }) => {
        // A stream may stay quiet longer than HTTP_IDLE_TIMEOUT_S between heartbeats: not Bun's to close.
        server?.timeout(request, 0);
        return runEventsResponse(runEvents, params.id, request.headers.get("last-event-id") ?? query.last_event_id, set);
      },
      {
        params: IdParams,
        query: RunEventsQuery,
        beforeHandle: singleValuedQuery,
        response: {
          200: "run.events",
          204: t.Void({ description: "The client already has the run's terminal state (a resume after the end)" }),
          ...apiProblemResponses(400, 404),
        },
        detail: {
          summary: "Follow a run's state changes as Server-Sent Events",
          ...requiresScope("runs:read"),
          description:
            "The run's current state as events, then every change as it is stored, whichever worker or replica makes it; the stream ends after the run's terminal event. Resume with Last-Event-ID. An unknown run is a 404 before any stream starts.",
        },
      },
    )
    .post("/runs/:id/cancel", ({ params }) => runs.cancel(params.id), {
      params: IdParams,
      // No body is expected, but one that is sent is parsed all the same (on both servers), so
      // malformed, oversized or non-JSON bodies are answered 400, 413, 415 here too.
      response: { 200: "run", ...apiProblemResponses(400, 404, 409, 413, 415) },
      detail: {
        summary: "Cancel a pending or running run",
        ...requiresScope("runs:write"),
        description:
          'Also cancels the run\'s pending and running descendants: the child runs its workflow steps started, theirs, and so on (each with the error "cancelled with its ancestor run <id>"). A parent that waits for this run resumes and sees it cancelled.',
      },
    })
    .post(
      "/runs/:id/replay",
      async ({ params, body, status, request }) => {
        const run = await runs.replay(params.id, body, traceHeaders(request));
        return status(202, { run_id: run.id, status: run.status, replay_of: run.replay_of! });
      },
      {
        params: IdParams,
        body: ReplayInput,
        parse: "json",
        // The body is optional: none replays with the defaults (a JSON null is a body, and not an object).
        transform: (ctx) => {
          const empty = (ctx.request.headers.get("content-length") ?? "0") === "0" && !ctx.request.headers.has("transfer-encoding");
          if (ctx.body === undefined || (ctx.body === null && empty)) ctx.body = {};
        },
        response: { 202: "replay.accepted", ...apiProblemResponses(400, 404, 409, 413, 415, 422) },
        detail: {
          summary: "Replay a finished run as a new run",
          ...requiresScope("runs:write"),
          description:
            "Starts a new pending run (replay_of: this run) of the run's pinned definition (its workflow_version, whatever the workflow has become since), with the given input or else the run's. The start is from_step, or by default the steps that did not complete (failed, cancelled, never started; the whole run when every step completed). The start, every step after it in the graph of needs, and every step the run did not complete execute; every other step keeps the run's result, marked reused: true, and does not execute. A new input does not change that choice. The new run is stored and published as a trigger's, under the same concurrency limit and timeout. The body is optional. 404 unknown run, 409 a run still pending or running, 422 a from_step that is not a step of the definition.",
        },
      },
    )
    .post("/runs/:id/signals/:name", async ({ params, body, status }) => status(202, await runs.signal(params.id, params.name, body)), {
      params: SignalParams,
      body: SignalPayload,
      parse: "json",
      response: { 202: "signal.accepted", ...apiProblemResponses(400, 404, 409, 413, 415, 422) },
      detail: {
        summary: "Send a signal to a run",
        ...requiresScope("runs:write"),
        description:
          "Stores the signal for the run's wait_for_signal steps of that name: each wait takes the oldest signal no other wait took, and its payload becomes the step's output. A signal sent before a step waits is kept until one does (also while the run is pending). A running run that is parked on a wait is resumed at once. A finished run (completed, failed or cancelled) is a 409, an unknown run a 404.",
      },
    });
