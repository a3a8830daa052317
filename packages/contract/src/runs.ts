import { DEFAULT_MAX_INPUT_BYTES, MAX_TRIGGER_DELAY_MS, RUN_STATUSES, STEP_STATUSES } from "@wf/core/runs";
import { LIMITS } from "@wf/core/workflows";
import { t } from "elysia";
import { integer, oneOf, responseOnly } from "./types.ts";
import { PageQuery } from "./workflows.ts";

const Timestamp = t.String({ format: "date-time" });

const StepWait = t.Object(
  {
    until: t.Optional(Timestamp),
    signal: t.Optional(t.String()),
    child_run_id: t.Optional(t.String({ format: "uuid" })),
    retry: t.Optional(t.Boolean()),
  },
  { description: "What a waiting step waits for: its due time, a signal, a child run, or the backoff before its next attempt" },
);

const ItemResult = t.Object({
  status: oneOf([...STEP_STATUSES]),
  attempts: integer({ minimum: 0 }),
  output: t.Optional(t.Unknown()),
  error: t.Optional(t.String()),
  wait: t.Optional(StepWait),
});

const StepResult = t.Object({
  name: t.String(),
  status: oneOf([...STEP_STATUSES]),
  attempts: integer({ minimum: 0 }),
  started_at: t.Nullable(Timestamp),
  finished_at: t.Nullable(Timestamp),
  output: t.Optional(
    t.Unknown({
      description: "What the step produced. A failed http step keeps the response it got (status, headers, body) here, beside its error",
    }),
  ),
  error: t.Optional(t.String({ description: "Why the step failed, on a failed step only" })),
  items: t.Optional(
    t.Array(ItemResult, {
      description:
        "A for_each step's items, in item order, while it runs or once it failed; a completed one has its items' outputs as its output",
    }),
  ),
  wait: t.Optional(StepWait),
});

export const Run = responseOnly(
  t.Object({
    id: t.String({ format: "uuid" }),
    workflow_id: t.String({ format: "uuid" }),
    workflow_version: integer({ minimum: 1 }),
    parent_run_id: t.Nullable(
      t.String({
        format: "uuid",
        description: "The run whose workflow step started this one (a child run); null for a run triggered otherwise",
      }),
    ),
    schedule_id: t.Nullable(
      t.String({
        format: "uuid",
        description: "The schedule whose tick started this run (POST /api/v1/schedules); null for a run started otherwise",
      }),
    ),
    status: oneOf([...RUN_STATUSES]),
    input: t.Unknown(),
    output: t.Unknown(),
    error: t.Nullable(t.String()),
    steps: t.Array(StepResult),
    created_at: Timestamp,
    started_at: t.Nullable(Timestamp),
    finished_at: t.Nullable(Timestamp),
  }),
);

export const RunPage = responseOnly(t.Object({ items: t.Array(Run), next_cursor: t.Nullable(t.String()) }));

export const TriggerInput = t.Object(
  {
    workflow_id: t.String({ format: "uuid" }),
    input: t.Optional(
      t.Record(t.String(), t.Unknown(), {
        description: `Available to steps as {{input.<path>}}. At most TRIGGER_MAX_INPUT_BYTES bytes of JSON (${DEFAULT_MAX_INPUT_BYTES} by default); no string or key may hold NUL or an unpaired surrogate, and numbers must fit a double. Otherwise a 422.`,
      }),
    ),
    idempotency_key: t.Optional(
      t.String({
        minLength: 1,
        maxLength: 200,
        description: "Triggering again with the same key returns the same run; no NUL or unpaired surrogate",
      }),
    ),
    run_at: t.Optional(
      t.String({
        format: "date-time",
        description:
          "Start the run at this time (RFC 3339 with its offset; a date that does not exist is a 422); a time already past starts it now. Until then the run is pending and holds nothing. Not with delay_ms.",
      }),
    ),
    delay_ms: t.Optional(
      integer({
        minimum: 0,
        maximum: MAX_TRIGGER_DELAY_MS,
        description: "Start the run this many milliseconds from now (up to 30 days); 0 starts it now. Not with run_at.",
      }),
    ),
  },
  { additionalProperties: false },
);

export const TriggerAccepted = responseOnly(t.Object({ run_id: t.String({ format: "uuid" }), status: oneOf([...RUN_STATUSES]) }));

export const RunListQuery = t.Composite([
  PageQuery,
  t.Object({
    status: t.Optional(oneOf([...RUN_STATUSES])),
    workflow_id: t.Optional(t.String({ format: "uuid" })),
  }),
]);

export const SignalParams = t.Object({
  id: t.String({ description: "The run's id (UUIDv7); a malformed id is a 404" }),
  name: t.String({
    description: `The signal's name, as a wait_for_signal step names it: 1 to ${LIMITS.maxStepNameLength} letters, digits, _ or -. Otherwise a 422 whose error path is "name".`,
  }),
});

export const SignalPayload = t.Unknown({
  description: `The signal's payload, any JSON value: the output of the wait_for_signal step that takes it. No body: null. At most TRIGGER_MAX_INPUT_BYTES bytes of JSON (${DEFAULT_MAX_INPUT_BYTES} by default), no NUL or unpaired surrogate in a string or key, numbers within a double; otherwise a 422.`,
});

export const SignalAccepted = responseOnly(
  t.Object({
    run_id: t.String({ format: "uuid" }),
    signal: t.String({ description: "The signal's name" }),
    id: t.String({
      pattern: "^[0-9]+$",
      description: "The signal's id, a 64-bit integer as text; a run's signals of one name are taken in the order of their ids",
    }),
  }),
);

export const RunEventsQuery = t.Object({
  last_event_id: t.Optional(
    t.String({
      maxLength: 4000,
      description:
        "Resume after this event, as the Last-Event-ID header does (for clients that cannot send headers); the header wins when both are given. An id this API did not send is a 400.",
    }),
  ),
});

/** The 200 of GET /runs/{id}/events: documented as text/event-stream (see the docs feature's document fixes). */
export const RunEventStream = t.String({
  contentMediaType: "text/event-stream",
  description: [
    "Server-Sent Events (text/event-stream), from the run's current state on, then each change as it is stored; the server ends the stream after the run's terminal `run` event.",
    "`event: run`: `data` is the run without its steps: {id, workflow_id, workflow_version, parent_run_id, schedule_id, status, output, error, created_at, started_at, finished_at}.",
    "`event: step`: `data` is a step result (as in GET /runs/{id}) with `index`, its position in the run's definition: {index, name, status, attempts, started_at, finished_at, output?, error?, items?, wait?}.",
    "Events carry states, not transitions: a state overwritten before it was sent (a step that ran and completed between two reads) shows as the later one. While the run goes on its `run` event comes before its steps', at the end after them; a cancelled run's terminal event waits (at most 5 s) for its worker to record how the steps it was running ended, so those come first.",
    "Every event has an `id`: send it back as Last-Event-ID (or ?last_event_id=) to resume on any replica with exactly what changed since, nothing twice. A resume when the client already has the run's terminal state is a 204 (EventSource then stops reconnecting).",
    "`: ping` comment lines every SSE_HEARTBEAT_MS (15 s by default) keep proxies from closing an idle stream.",
  ].join("\n\n"),
});
