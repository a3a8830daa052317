import {
  CANCELLABLE_STATUSES,
  DEFAULT_MAX_INPUT_BYTES,
  FINISHED_STATUSES,
  MAX_TRIGGER_DELAY_MS,
  RFC3339_PATTERN,
  RUN_STATUSES,
  type RunStatus,
  SIGNAL_NAME_ERROR,
  STEP_STATUSES,
  statusListPattern,
} from "@wf/core/runs";
import { LIMITS, STEP_NAME_PATTERN } from "@wf/core/workflows";
import { t } from "elysia";
import { ANY_REQUIRED, EXCLUSIVE, integer, MEDIA_TYPE, oneOf, responseOnly } from "./types.ts";
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
  reused: t.Optional(
    t.Boolean({
      description:
        "true on a replay's step that kept the result of the run it replays (POST /api/v1/runs/{id}/replay) and did not execute; absent otherwise",
    }),
  ),
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
    replay_of: t.Nullable(
      t.String({
        format: "uuid",
        description: "The run this one replays (POST /api/v1/runs/{id}/replay); null for a run started otherwise",
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

const RunInput = (description: string) =>
  t.Record(t.String(), t.Unknown(), {
    description: `${description} At most TRIGGER_MAX_INPUT_BYTES bytes of JSON (${DEFAULT_MAX_INPUT_BYTES} by default); no string or key may hold NUL or an unpaired surrogate, and numbers must fit a double. Otherwise a 422.`,
  });

export const TriggerInput = t.Object(
  {
    workflow_id: t.String({ format: "uuid" }),
    input: t.Optional(RunInput("Available to steps as {{input.<path>}}.")),
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
  // The service answers both with a 422; the document says it as `not: {required: [...]}` (see
  // EXCLUSIVE, which Elysia's validator compiler cannot take as `not` itself).
  { additionalProperties: false, [EXCLUSIVE]: ["run_at", "delay_ms"] },
);

export const TriggerAccepted = responseOnly(t.Object({ run_id: t.String({ format: "uuid" }), status: oneOf([...RUN_STATUSES]) }));

export const ReplayInput = t.Object(
  {
    from_step: t.Optional(
      t.String({
        pattern: STEP_NAME_PATTERN,
        maxLength: LIMITS.maxStepNameLength,
        description:
          "The step to start from: it and every step after it in the graph of needs execute again. Absent: the steps of the original that did not complete (failed, cancelled, never started), or the whole run when every step completed. A name that is not a step of the original's definition is a 422.",
      }),
    ),
    input: t.Optional(
      RunInput(
        "The replay's input; absent: the original's. It does not change which steps are reused: a reused step keeps the output the original computed from the original's input.",
      ),
    ),
  },
  { additionalProperties: false },
);

export const ReplayAccepted = responseOnly(
  t.Object({
    run_id: t.String({ format: "uuid", description: "The new run" }),
    status: oneOf([...RUN_STATUSES]),
    replay_of: t.String({ format: "uuid", description: "The run it replays" }),
  }),
);

/**
 * The filters of a run list, also a bulk action's: each narrows, a run matches all. `statuses`
 * are those the `status` list may name. Patterns and formats are exactly what parseRunFilter
 * (@wf/core/runs) accepts, so the document says what the service checks.
 */
export const runFilterFields = (statuses: readonly RunStatus[] = RUN_STATUSES) => ({
  status: t.Optional(
    t.String({
      pattern: statusListPattern(statuses),
      description: `One status or several, comma-separated (${statuses.join(", ")}): runs in any of them`,
    }),
  ),
  workflow_id: t.Optional(t.String({ format: "uuid", description: "Runs of this workflow" })),
  schedule_id: t.Optional(t.String({ format: "uuid", description: "Runs a tick of this schedule started" })),
  parent_run_id: t.Optional(t.String({ format: "uuid", description: "Child runs of this run (its workflow steps started them)" })),
  created_after: t.Optional(
    t.String({
      format: "date-time",
      pattern: RFC3339_PATTERN,
      description: "RFC 3339 with its offset: runs created strictly after this instant",
    }),
  ),
  created_before: t.Optional(
    t.String({
      format: "date-time",
      pattern: RFC3339_PATTERN,
      description: "RFC 3339 with its offset: runs created strictly before this instant",
    }),
  ),
});

export const RunListQuery = t.Composite([PageQuery, t.Object(runFilterFields())]);

export const BulkCancelInput = t.Object(runFilterFields(CANCELLABLE_STATUSES), {
  additionalProperties: false,
  minProperties: 1,
  description:
    "The list filters of GET /api/v1/runs, in the same form (status comma-separated), at least one: an empty body would name every run. Only pending and running runs are cancelled, so status may name only those.",
});

export const BulkReplayInput = t.Object(
  {
    ...runFilterFields(FINISHED_STATUSES),
    from_step: t.Optional(
      t.String({
        pattern: STEP_NAME_PATTERN,
        maxLength: LIMITS.maxStepNameLength,
        description: "As a single replay's, for every run matched; a run whose definition has no such step is matched, not replayed",
      }),
    ),
  },
  {
    additionalProperties: false,
    [ANY_REQUIRED]: Object.keys(runFilterFields()),
    description:
      "The list filters of GET /api/v1/runs, in the same form (status comma-separated), at least one, and optionally from_step. Only finished runs are replayed, so status may name only those.",
  },
);

export const BulkResult = responseOnly(
  t.Object({
    matched: integer({ minimum: 0, description: "Runs the filters matched that the action applies to, up to the per-call limit" }),
    affected: integer({ minimum: 0, description: "Runs the action changed; a run that finished meanwhile is matched but not affected" }),
  }),
);

export const SignalParams = t.Object({
  id: t.String({ description: "The run's id (UUIDv7); a malformed id is a 404" }),
  name: t.String({
    pattern: STEP_NAME_PATTERN,
    maxLength: LIMITS.maxStepNameLength,
    error: SIGNAL_NAME_ERROR,
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
      maxLength: 3996,
      pattern: "^([0-9a-z-]{6})*$",
      description:
        "Resume after this event, as the Last-Event-ID header does (for clients that cannot send headers); the header wins when both are given. An id this API did not send is a 400.",
    }),
  ),
});

/** One event of the 200 of GET /runs/{id}/events, documented as text/event-stream (see the docs feature's document fixes). */
export const RunEventStream = t.Object(
  {
    event: oneOf(["run", "step"]),
    id: t.String({ pattern: "^([0-9a-z-]{6})+$", description: "What the client has after this event: send it back to resume" }),
    data: t.String({ contentMediaType: "application/json", description: "The changed state, as JSON" }),
  },
  {
    [MEDIA_TYPE]: "text/event-stream",
    description: [
      "Server-Sent Events (text/event-stream), from the run's current state on, then each change as it is stored; the server ends the stream after the run's terminal `run` event.",
      "`event: run`: `data` is the run without its steps: {id, workflow_id, workflow_version, parent_run_id, schedule_id, replay_of, status, output, error, created_at, started_at, finished_at}.",
      "`event: step`: `data` is a step result (as in GET /runs/{id}) with `index`, its position in the run's definition: {index, name, status, attempts, started_at, finished_at, output?, error?, items?, wait?}.",
      "Events carry states, not transitions: a state overwritten before it was sent (a step that ran and completed between two reads) shows as the later one. While the run goes on its `run` event comes before its steps', at the end after them; a cancelled run's terminal event waits (at most 5 s) for its worker to record how the steps it was running ended, so those come first.",
      "Every event has an `id`: send it back as Last-Event-ID (or ?last_event_id=) to resume on any replica with exactly what changed since, nothing twice. A resume when the client already has the run's terminal state is a 204 (EventSource then stops reconnecting).",
      "`: ping` comment lines every SSE_HEARTBEAT_MS (15 s by default) keep proxies from closing an idle stream.",
    ].join("\n\n"),
  },
);
