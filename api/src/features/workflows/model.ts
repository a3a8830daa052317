import { HTTP_METHODS, LIMITS, LOG_LEVELS, PAGE_LIMIT, STEP_NAME_PATTERN, STEP_TYPES } from "@wf/domain";
import { oneOf } from "../../http/one-of.ts";
import { responseOnly } from "../../http/response-only.ts";
import { Elysia, t } from "elysia";

const Retry = t.Object(
  {
    max_attempts: t.Integer({ minimum: 1, maximum: LIMITS.maxAttempts }),
    backoff_ms: t.Integer({ minimum: 0, maximum: LIMITS.maxBackoffMs }),
  },
  { additionalProperties: false, description: "Attempts of this step, with exponential backoff and jitter between them." },
);

// The config's fields depend on `type`; the domain validator checks them (and placeholders) and
// answers 422 with a path per problem, which a JSON Schema union cannot do legibly.
const StepConfig = t.Record(t.String(), t.Unknown(), {
  description: [
    `http: {method: ${HTTP_METHODS.join("|")}, url, headers?: {string: string}, body?: any, timeout_ms?: 1..${LIMITS.maxHttpTimeoutMs}}`,
    `delay: {ms: 0..${LIMITS.maxDelayMs}}`,
    "transform: {output: any JSON, with placeholders}",
    `log: {message, level?: ${LOG_LEVELS.join("|")}}`,
    "Strings may hold {{input.<path>}} and {{steps.<earlier step>.<path>}} placeholders.",
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

export const WorkflowInput = t.Object(
  {
    name: t.String({ minLength: 1, maxLength: LIMITS.maxNameLength }),
    description: t.Optional(t.Nullable(t.String({ maxLength: LIMITS.maxDescriptionLength }))),
    steps: t.Array(Step, { minItems: LIMITS.minSteps, maxItems: LIMITS.maxSteps }),
  },
  { additionalProperties: false },
);

export const Workflow = t.Object({
  id: t.String({ format: "uuid" }),
  name: t.String(),
  description: t.Nullable(t.String()),
  steps: t.Array(Step),
  version: t.Integer({ minimum: 1 }),
  created_at: t.String({ format: "date-time" }),
  updated_at: t.String({ format: "date-time" }),
});

export const PageQuery = t.Object({
  limit: t.Optional(t.Numeric({ minimum: PAGE_LIMIT.min, maximum: PAGE_LIMIT.max, default: PAGE_LIMIT.default, multipleOf: 1 })),
  cursor: t.Optional(t.String({ maxLength: 200, description: "next_cursor of the previous page" })),
});

export const IdParams = t.Object({ id: t.String({ description: "UUIDv7; a malformed id is a 404" }) });

export const workflowModels = new Elysia({ name: "workflows.model" }).model({
  "workflow.input": WorkflowInput,
  workflow: responseOnly(Workflow),
  "workflow.page": responseOnly(t.Object({ items: t.Array(Workflow), next_cursor: t.Nullable(t.String()) })),
});
