import { PAGE_LIMIT } from "@wf/core/pagination";
import { DEFAULT_MAX_STRING_LENGTH, HTTP_METHODS, LIMITS, LOG_LEVELS, STEP_NAME_PATTERN, STEP_TYPES } from "@wf/core/workflows";
import { t } from "elysia";
import { integer, oneOf, responseOnly } from "./types.ts";

const Retry = t.Object(
  {
    max_attempts: integer({ minimum: 1, maximum: LIMITS.maxAttempts }),
    backoff_ms: integer({ minimum: 0, maximum: LIMITS.maxBackoffMs }),
  },
  { additionalProperties: false, description: "Attempts of this step, with exponential backoff and jitter between them." },
);

// The config's fields depend on `type`; the core's validator checks them (and placeholders) and
// responds 422 with a path per problem, which a JSON Schema union cannot do legibly.
const StepConfig = t.Record(t.String(), t.Unknown(), {
  description: [
    `http: {method: ${HTTP_METHODS.join("|")}, url, headers?: {string: string}, body?: any, timeout_ms?: 1..${LIMITS.maxHttpTimeoutMs}}`,
    `delay: {ms: 0..${LIMITS.maxDelayMs}}`,
    "transform: {output: any JSON, with placeholders}",
    `log: {message, level?: ${LOG_LEVELS.join("|")}}`,
    "Strings may hold {{input.<path>}} and {{steps.<earlier step>.<path>}} placeholders.",
    `No string or key may exceed WORKFLOW_MAX_STRING_LENGTH characters (${DEFAULT_MAX_STRING_LENGTH} by default) or hold NUL or an unpaired surrogate; numbers must fit a double.`,
  ].join("\n"),
});

export const Step = t.Object(
  {
    name: t.String({ pattern: STEP_NAME_PATTERN, minLength: 1, maxLength: LIMITS.maxStepNameLength }),
    type: oneOf([...STEP_TYPES]),
    config: StepConfig,
    retry: t.Optional(Retry),
  },
  { additionalProperties: false },
);

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
      description: configuredBelow("WORKFLOW_MAX_STEPS", "Run in order; step names are unique"),
    }),
  },
  { additionalProperties: false },
);

export const Workflow = responseOnly(
  t.Object({
    id: t.String({ format: "uuid" }),
    name: t.String(),
    description: t.Nullable(t.String()),
    steps: t.Array(Step),
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
