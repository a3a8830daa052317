import type { TObject, TProperties, TUnsafe } from "@sinclair/typebox";
import { PAGE_LIMIT } from "@wf/core/pagination";
import {
  DEFAULT_MAX_STRING_LENGTH,
  FLOW_LIMITS,
  HTTP_METHODS,
  LIMITS,
  LOG_LEVELS,
  ON_ERROR,
  STEP_NAME_PATTERN,
  type StepSpec,
  type StepType,
} from "@wf/core/workflows";
import { t } from "elysia";
import { discriminatedUnion, integer, oneOf, responseOnly } from "./types.ts";

const Retry = t.Object(
  {
    max_attempts: integer({ minimum: 1, maximum: LIMITS.maxAttempts }),
    backoff_ms: integer({ minimum: 0, maximum: LIMITS.maxBackoffMs }),
  },
  { additionalProperties: false, description: "Attempts of this step, with exponential backoff and jitter between them." },
);

const StepName = (description?: string) =>
  t.String({ pattern: STEP_NAME_PATTERN, minLength: 1, maxLength: LIMITS.maxStepNameLength, ...(description ? { description } : {}) });

const Expression = (description: string) => t.String({ minLength: 1, maxLength: LIMITS.maxExpressionLength, description });

const PLACEHOLDERS =
  "Strings may hold {{input.<path>}} and {{steps.<name>.<path>}} placeholders, the latter only of steps this one runs after (its needs, theirs, and so on); in a for_each step also {{item}}, {{item.<path>}} and {{index}}.";
const STRINGS = `No string or key may exceed WORKFLOW_MAX_STRING_LENGTH characters (${DEFAULT_MAX_STRING_LENGTH} by default) or hold NUL or an unpaired surrogate; numbers must fit a double.`;

const config = <P extends TProperties>(properties: P, description: string) =>
  t.Object(properties, { additionalProperties: false, description: `${description} ${PLACEHOLDERS} ${STRINGS}` });

/** Each step type's config: what the core's validator checks, as far as JSON Schema can say it. */
const CONFIGS = {
  http: config(
    {
      method: oneOf([...HTTP_METHODS]),
      url: t.String({
        minLength: 1,
        description: "An absolute http or https URL, or one that starts with a placeholder (checked once rendered, with the egress policy)",
      }),
      headers: t.Optional(t.Record(t.String(), t.String())),
      body: t.Optional(t.Unknown({ description: "Any JSON, sent as the request body" })),
      timeout_ms: t.Optional(integer({ minimum: 1, maximum: LIMITS.maxHttpTimeoutMs })),
    },
    "A real HTTP request; the step's output is its status, headers and parsed body.",
  ),
  delay: config(
    { ms: integer({ minimum: 0, maximum: LIMITS.maxDelayMs, description: "Up to 30 days; a long wait holds no worker" }) },
    "Waits.",
  ),
  transform: config({ output: t.Unknown({ description: "Any JSON, with placeholders: the step's output" }) }, "Renders JSON."),
  log: config({ message: t.String(), level: t.Optional(oneOf([...LOG_LEVELS])) }, "Writes a log line."),
  workflow: config(
    {
      workflow_id: t.String({
        format: "uuid",
        description: "An existing workflow: an unknown one is a 422 when this definition is stored",
      }),
      input: t.Optional(t.Unknown({ description: "The child run's input: any JSON, with placeholders" })),
    },
    "Starts a run of another workflow and waits for it; the step's output is the child run's output.",
  ),
  wait_for_signal: config(
    {
      signal: StepName("The signal's name, as in POST /api/v1/runs/{id}/signals/{name}"),
      timeout_ms: t.Optional(
        integer({ minimum: 1, maximum: LIMITS.maxSignalTimeoutMs, description: "Up to 30 days; a timeout fails the step" }),
      ),
    },
    "Waits for a signal; the step's output is the signal's payload.",
  ),
} satisfies Record<StepType, TObject>;

/** The fields every step has besides its name, type and config. */
const stepFields = {
  retry: t.Optional(Retry),
  needs: t.Optional(
    t.Array(StepName(), {
      maxItems: LIMITS.maxNeeds,
      uniqueItems: true,
      description:
        "Earlier steps that must be over before this one starts. Absent: the previous step (none for the first), so a list runs in order; []: none. Steps that do not need each other run at the same time.",
    }),
  ),
  if: t.Optional(
    Expression(
      "A CEL expression over input, steps.<name>.output and steps.<name>.status (and item, index in a for_each step); false skips the step. A malformed expression is a 422.",
    ),
  ),
  for_each: t.Optional(
    Expression(
      "A CEL expression yielding a list (at most 1,000 items): the step runs once per item; its output is the list of the items' outputs, in order.",
    ),
  ),
  concurrency: t.Optional(
    integer({
      minimum: 1,
      maximum: LIMITS.maxConcurrency,
      description: "How many items of the for_each run at once (default 10); only with for_each.",
    }),
  ),
  on_error: t.Optional(
    oneOf([...ON_ERROR], {
      description: "fail (the default): a failure of this step fails the run; continue: later steps see its status and error.",
    }),
  ),
};

const stepOf = <K extends StepType>(type: K) =>
  t.Object(
    { name: StepName("Unique within the workflow"), type: oneOf([type]), config: CONFIGS[type], ...stepFields },
    // `dependentRequired` is documentation for JSON Schema validators; the core's validator enforces it.
    { additionalProperties: false, dependentRequired: { concurrency: ["for_each"] } },
  );

/** One step: a union told apart by `type` (OpenAPI: oneOf with a discriminator, one component per type). */
export const Step = discriminatedUnion(
  "type",
  [stepOf("http"), stepOf("delay"), stepOf("transform"), stepOf("log"), stepOf("workflow"), stepOf("wait_for_signal")],
  (type) => `step.${type}`,
);

/** Workflow-level fields: they govern the workflow's runs (CONTRACT.md, Version 2). */
const flowFields = {
  concurrency: t.Optional(
    t.Object(
      {
        limit: integer({
          minimum: 1,
          maximum: FLOW_LIMITS.maxConcurrencyLimit,
          description: "At most this many runs of the workflow (per key value) are running at once, parked ones included",
        }),
        key: t.Optional(
          t.String({
            minLength: 1,
            maxLength: FLOW_LIMITS.maxKeyLength,
            description:
              "A template over the run's input only, e.g. {{input.customer}}: one limit per value. Computed when a run is triggered: the text of the values read (an object or list as its JSON, a missing value as empty text). Absent: one limit for all the workflow's runs.",
          }),
        ),
      },
      {
        additionalProperties: false,
        description:
          "A concurrency limit. The runs over it stay pending (they hold no worker) and start in trigger order as runs of their key finish. A run keeps the limit and key of the version it was triggered with.",
      },
    ),
  ),
  timeout_ms: t.Optional(
    integer({
      minimum: 1,
      maximum: FLOW_LIMITS.maxRunTimeoutMs,
      description:
        "Up to 30 days: a run still unfinished this long after it started (time parked included; time pending, before it started, not) is failed. Each execution of a run is also bounded by the server's RUN_TIMEOUT_MS.",
    }),
  ),
};

// The bounds below are ceilings: the schema is built once, at start, so a server configured lower
// (WORKFLOW_MAX_*) enforces its own values in the core's validator, with the same 422.
const configuredBelow = (setting: string, what: string) => `${what}; a server may be configured lower (${setting}), which is a 422 too.`;

export const WorkflowInput = t.Object(
  {
    name: t.String({
      minLength: 1,
      maxLength: LIMITS.maxNameLength,
      description: configuredBelow("WORKFLOW_MAX_NAME_LENGTH", "Not blank"),
    }),
    description: t.Optional(
      t.Nullable(
        t.String({ maxLength: LIMITS.maxDescriptionLength, description: configuredBelow("WORKFLOW_MAX_DESCRIPTION_LENGTH", "Free text") }),
      ),
    ),
    steps: t.Array(Step, {
      minItems: LIMITS.minSteps,
      maxItems: LIMITS.maxSteps,
      description: configuredBelow(
        "WORKFLOW_MAX_STEPS",
        "A graph of steps in a topological order (needs name earlier steps only); without needs, they run in list order; step names are unique",
      ),
    }),
    ...flowFields,
  },
  { additionalProperties: false },
);

/** The flow-control fields as a stored definition shows them: only those set. */
export const ShownFlowFields = flowFields;

/** The step schema typed as the core's stored step (its config a plain record), for responses: the same schema, for the checker. */
export const StoredStep = Step as unknown as TUnsafe<StepSpec>;

export const Workflow = responseOnly(
  t.Object({
    id: t.String({ format: "uuid" }),
    name: t.String(),
    description: t.Nullable(t.String()),
    steps: t.Array(StoredStep),
    ...flowFields,
    version: integer({ minimum: 1 }),
    created_at: t.String({ format: "date-time" }),
    updated_at: t.String({ format: "date-time" }),
  }),
);

export const WorkflowPage = responseOnly(t.Object({ items: t.Array(Workflow), next_cursor: t.Nullable(t.String()) }));

export const PageQuery = t.Object({
  limit: t.Optional(t.Numeric({ minimum: PAGE_LIMIT.min, maximum: PAGE_LIMIT.max, default: PAGE_LIMIT.default, multipleOf: 1 })),
  cursor: t.Optional(t.String({ maxLength: 200, description: "next_cursor of the previous page" })),
});

export const IdParams = t.Object({ id: t.String({ description: "UUIDv7; a malformed id is a 404" }) });
