import type { FieldError } from "../errors.ts";
import { isStorableText, jsonValueProblems, UNSTORABLE_TEXT } from "../json/storable.ts";
import { references, stringsIn } from "../templates/template.ts";

export const STEP_TYPES = ["http", "delay", "transform", "log"] as const;
export type StepType = (typeof STEP_TYPES)[number];
export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] as const;
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/**
 * Hard ceilings, published by the HTTP schemas and so by the OpenAPI document. The limits an
 * operator configures (WORKFLOW_MAX_*) can only be lower or equal: the schemas are built once at
 * start, so the configured values are enforced here, as 422 field errors like the schema's own.
 */
export const LIMITS = {
  minSteps: 1,
  maxSteps: 50,
  maxNameLength: 200,
  maxStepNameLength: 64,
  maxDescriptionLength: 2000,
  maxAttempts: 10,
  maxBackoffMs: 60_000,
  maxHttpTimeoutMs: 60_000,
  maxDelayMs: 3_600_000,
} as const;

/** The longest string in a step's config unless WORKFLOW_MAX_STRING_LENGTH says otherwise. */
export const DEFAULT_MAX_STRING_LENGTH = 65_536;

/** The configured limits of a definition (the platform's config sets them, within LIMITS). */
export interface DefinitionLimits {
  maxSteps: number;
  maxNameLength: number;
  maxDescriptionLength: number;
  /** Longest string value or key inside a step's config. */
  maxStringLength: number;
}

const MAX_ERRORS = 100;

/** What is enforced without configuration: the ceilings, with no limit on config strings. */
const CEILINGS: DefinitionLimits = {
  maxSteps: LIMITS.maxSteps,
  maxNameLength: LIMITS.maxNameLength,
  maxDescriptionLength: LIMITS.maxDescriptionLength,
  maxStringLength: Number.POSITIVE_INFINITY,
};

export const STEP_NAME_PATTERN = "^[A-Za-z0-9_-]+$";
const STEP_NAME = new RegExp(STEP_NAME_PATTERN);

export interface Retry {
  max_attempts: number;
  backoff_ms: number;
}

export interface HttpConfig {
  method: (typeof HTTP_METHODS)[number];
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  timeout_ms?: number;
}
export interface DelayConfig {
  ms: number;
}
export interface TransformConfig {
  output: unknown;
}
export interface LogConfig {
  message: string;
  level?: (typeof LOG_LEVELS)[number];
}

export type Step =
  | { name: string; type: "http"; config: HttpConfig; retry?: Retry }
  | { name: string; type: "delay"; config: DelayConfig; retry?: Retry }
  | { name: string; type: "transform"; config: TransformConfig; retry?: Retry }
  | { name: string; type: "log"; config: LogConfig; retry?: Retry };

export const ON_ERROR = ["fail", "continue"] as const;
export type OnError = (typeof ON_ERROR)[number];

/** The graph fields a step may carry (Version 2); a v1 step has none of them. */
export interface StepFlow {
  /** Steps that must be over before this one starts. Absent: the previous step; `[]`: none. */
  needs?: string[];
  /** A CEL condition; false skips the step (and the steps that need only skipped steps). */
  if?: string;
  /** A CEL expression yielding a list: the step runs once per item. */
  for_each?: string;
  /** How many items of a `for_each` run at once. */
  concurrency?: number;
  /** `continue`: a failure of this step does not fail the run. */
  on_error?: OnError;
}

/** A step as stored and shown: its config typed by `type` once validated (see `Step`). */
export interface StepSpec extends StepFlow {
  name: string;
  type: StepType;
  config: Record<string, unknown>;
  retry?: Retry;
}

export interface WorkflowDefinition {
  name: string;
  description?: string | null;
  steps: StepSpec[];
}

/** What a client sends: the shape is checked by the HTTP schema, the rules by `validateDefinition`. */
export interface WorkflowInput {
  name: string;
  description?: string | null;
  steps: Array<{ name: string; type: string; config: Record<string, unknown>; retry?: Retry }>;
}

/** The engine's view of a validated step. */
export const asStep = (spec: StepSpec): Step => spec as unknown as Step;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const isInt = (v: unknown, min: number, max: number): boolean => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

/** Checks of one step's config; each returns the problems found, paths relative to the step. */
const configChecks: Record<StepType, (c: Record<string, unknown>, at: string) => FieldError[]> = {
  http(c, at) {
    const errs: FieldError[] = [];
    if (!(HTTP_METHODS as readonly unknown[]).includes(c.method))
      errs.push({ path: `${at}/method`, message: `method must be one of ${HTTP_METHODS.join(", ")}` });
    if (typeof c.url !== "string" || c.url.length === 0) errs.push({ path: `${at}/url`, message: "url must be a non-empty string" });
    else if (references(c.url).length === 0) {
      // A literal URL can be checked now; a templated one only once rendered, by the worker.
      let ok = false;
      try {
        ok = ["http:", "https:"].includes(new URL(c.url).protocol);
      } catch {
        ok = false;
      }
      if (!ok) errs.push({ path: `${at}/url`, message: "url must be an absolute http or https URL" });
    } else if (!/^(https?:\/\/|\{\{)/.test(c.url))
      errs.push({ path: `${at}/url`, message: "url must start with http://, https:// or a placeholder" });
    if (c.headers !== undefined && (!isObject(c.headers) || Object.values(c.headers).some((v) => typeof v !== "string")))
      errs.push({ path: `${at}/headers`, message: "headers must be an object of strings" });
    if (c.timeout_ms !== undefined && !isInt(c.timeout_ms, 1, LIMITS.maxHttpTimeoutMs))
      errs.push({ path: `${at}/timeout_ms`, message: `timeout_ms must be an integer from 1 to ${LIMITS.maxHttpTimeoutMs}` });
    return errs;
  },
  delay(c, at) {
    return isInt(c.ms, 0, LIMITS.maxDelayMs) ? [] : [{ path: `${at}/ms`, message: `ms must be an integer from 0 to ${LIMITS.maxDelayMs}` }];
  },
  transform(c, at) {
    return "output" in c ? [] : [{ path: `${at}/output`, message: "output is required" }];
  },
  log(c, at) {
    const errs: FieldError[] = [];
    if (typeof c.message !== "string") errs.push({ path: `${at}/message`, message: "message must be a string" });
    if (c.level !== undefined && !(LOG_LEVELS as readonly unknown[]).includes(c.level))
      errs.push({ path: `${at}/level`, message: `level must be one of ${LOG_LEVELS.join(", ")}` });
    return errs;
  },
};

const allowedConfigKeys: Record<StepType, string[]> = {
  http: ["method", "url", "headers", "body", "timeout_ms"],
  delay: ["ms"],
  transform: ["output"],
  log: ["message", "level"],
};

function checkStep(step: unknown, i: number, earlier: Set<string>, seen: Set<string>, limits: DefinitionLimits): FieldError[] {
  const at = `/steps/${i}`;
  if (!isObject(step)) return [{ path: at, message: "step must be an object" }];
  const errs: FieldError[] = [];
  const { name, type, config, retry } = step;
  if (typeof name !== "string" || !STEP_NAME.test(name) || name.length > LIMITS.maxStepNameLength)
    errs.push({ path: `${at}/name`, message: `name must be 1-${LIMITS.maxStepNameLength} letters, digits, _ or -` });
  else if (seen.has(name)) errs.push({ path: `${at}/name`, message: `step name "${name}" is used twice` });
  else seen.add(name);

  if (!(STEP_TYPES as readonly unknown[]).includes(type)) {
    errs.push({ path: `${at}/type`, message: `unknown step type ${JSON.stringify(type)}; expected one of ${STEP_TYPES.join(", ")}` });
  } else if (!isObject(config)) {
    errs.push({ path: `${at}/config`, message: "config must be an object" });
  } else {
    const t = type as StepType;
    errs.push(...configChecks[t](config, `${at}/config`));
    for (const k of Object.keys(config))
      if (!allowedConfigKeys[t].includes(k)) errs.push({ path: `${at}/config/${k}`, message: `unknown ${t} config field "${k}"` });
    for (const [path, text] of stringsIn(config, `${at}/config`))
      for (const ref of references(text)) {
        if ("error" in ref) errs.push({ path, message: ref.error });
        else if (ref.root === "steps" && !earlier.has(ref.path[0] ?? ""))
          errs.push({ path, message: `${ref.raw} refers to step "${ref.path[0] ?? ""}", which does not run before this one` });
      }
    errs.push(...jsonValueProblems(config, `${at}/config`, { maxStringLength: limits.maxStringLength }));
  }

  if (retry !== undefined) {
    if (!isObject(retry)) errs.push({ path: `${at}/retry`, message: "retry must be an object" });
    else {
      if (!isInt(retry.max_attempts, 1, LIMITS.maxAttempts))
        errs.push({ path: `${at}/retry/max_attempts`, message: `max_attempts must be an integer from 1 to ${LIMITS.maxAttempts}` });
      if (!isInt(retry.backoff_ms, 0, LIMITS.maxBackoffMs))
        errs.push({ path: `${at}/retry/backoff_ms`, message: `backoff_ms must be an integer from 0 to ${LIMITS.maxBackoffMs}` });
    }
  }
  return errs;
}

/**
 * Full semantic validation of a workflow definition: what JSON Schema cannot say (unique step
 * names, per-type config, placeholders that read only earlier steps). The HTTP schemas check the
 * shape first; this is the authority, shared by every entry point.
 */
export function validateDefinition(def: unknown, limits: DefinitionLimits = CEILINGS): FieldError[] {
  if (!isObject(def)) return [{ path: "", message: "workflow must be an object" }];
  const errs: FieldError[] = [];
  const { name, description, steps } = def;
  if (typeof name !== "string" || name.trim().length === 0 || name.length > limits.maxNameLength)
    errs.push({ path: "/name", message: `name must be a non-blank string of at most ${limits.maxNameLength} characters` });
  else if (!isStorableText(name)) errs.push({ path: "/name", message: `name ${UNSTORABLE_TEXT}` });
  if (description !== undefined && description !== null) {
    if (typeof description !== "string" || description.length > limits.maxDescriptionLength)
      errs.push({ path: "/description", message: `description must be a string of at most ${limits.maxDescriptionLength} characters` });
    else if (!isStorableText(description)) errs.push({ path: "/description", message: `description ${UNSTORABLE_TEXT}` });
  }
  if (!Array.isArray(steps) || steps.length < LIMITS.minSteps || steps.length > limits.maxSteps) {
    errs.push({ path: "/steps", message: `steps must be an array of ${LIMITS.minSteps} to ${limits.maxSteps} steps` });
    return errs;
  }
  const seen = new Set<string>();
  steps.forEach((step, i) => {
    errs.push(...checkStep(step, i, new Set(seen), seen, limits));
  });
  // A hostile definition can break thousands of rules; an answer listing them all would be larger
  // than the request.
  return errs.slice(0, MAX_ERRORS);
}
