import type { FieldError } from "../errors.ts";
import { compileExpression } from "../expressions/index.ts";
import { isUuid } from "../ids.ts";
import { isStorableText, jsonValueProblems, UNSTORABLE_TEXT } from "../json/storable.ts";
import { type Reference, references, stringsIn } from "../templates/template.ts";
import { type FlowControl, flowControlProblems } from "./flow-control.ts";

export const STEP_TYPES = ["http", "delay", "transform", "log", "workflow", "wait_for_signal"] as const;
export type StepType = (typeof STEP_TYPES)[number];
export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] as const;
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

const THIRTY_DAYS_MS = 30 * 24 * 3_600_000;

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
  // Long delays park the run in PostgreSQL rather than holding a worker.
  maxDelayMs: THIRTY_DAYS_MS,
  maxSignalTimeoutMs: THIRTY_DAYS_MS,
  maxNeeds: 50,
  maxConcurrency: 1000,
  // An `if` or `for_each` is a condition or a list, not a program; CEL parses it at create time.
  maxExpressionLength: 4096,
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
const isStepName = (v: unknown): v is string => typeof v === "string" && STEP_NAME.test(v) && v.length <= LIMITS.maxStepNameLength;

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
/** Starts a run of another workflow and waits for it; the step's output is the child's. */
export interface WorkflowStepConfig {
  workflow_id: string;
  /** The child run's input; placeholders are rendered first. */
  input?: unknown;
}
/** Waits for `POST /runs/{id}/signals/{signal}`; the step's output is the signal's payload. */
export interface WaitForSignalConfig {
  signal: string;
  timeout_ms?: number;
}

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

interface StepBase extends StepFlow {
  name: string;
  retry?: Retry;
}

export type Step =
  | (StepBase & { type: "http"; config: HttpConfig })
  | (StepBase & { type: "delay"; config: DelayConfig })
  | (StepBase & { type: "transform"; config: TransformConfig })
  | (StepBase & { type: "log"; config: LogConfig })
  | (StepBase & { type: "workflow"; config: WorkflowStepConfig })
  | (StepBase & { type: "wait_for_signal"; config: WaitForSignalConfig });

/** A step as stored and shown: its config typed by `type` once validated (see `Step`). */
export interface StepSpec extends StepFlow {
  name: string;
  type: StepType;
  config: Record<string, unknown>;
  retry?: Retry;
}

export interface WorkflowDefinition extends FlowControl {
  name: string;
  description?: string | null;
  steps: StepSpec[];
}

/** What a client sends: the shape is checked by the HTTP schema, the rules by `validateDefinition`. */
export interface WorkflowInput extends FlowControl {
  name: string;
  description?: string | null;
  steps: Array<StepFlow & { name: string; type: string; config: Record<string, unknown>; retry?: Retry }>;
}

/** The engine's view of a validated step. */
export const asStep = (spec: StepSpec): Step => spec as unknown as Step;

/**
 * The steps a step of a validated definition waits for: its `needs`, or when absent the previous
 * step (none for the first), so that a v1 list runs in order.
 */
export const stepNeeds = (steps: readonly StepSpec[], i: number): string[] => steps[i]?.needs ?? (i > 0 ? [steps[i - 1]!.name] : []);

/** The workflows that a definition's `workflow` steps start, each with the path of its id. */
export const childWorkflows = (def: WorkflowDefinition): Array<{ path: string; workflowId: string }> =>
  def.steps.flatMap((s, i) =>
    s.type === "workflow" ? [{ path: `/steps/${i}/config/workflow_id`, workflowId: String(s.config.workflow_id).toLowerCase() }] : [],
  );

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
    return isInt(c.ms, 0, LIMITS.maxDelayMs)
      ? []
      : [{ path: `${at}/ms`, message: `ms must be an integer from 0 to ${LIMITS.maxDelayMs} (30 days)` }];
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
  workflow(c, at) {
    // An id, not a placeholder: whether that workflow exists is checked when the definition is stored.
    return typeof c.workflow_id === "string" && isUuid(c.workflow_id)
      ? []
      : [{ path: `${at}/workflow_id`, message: "workflow_id must be the id (a UUID) of a workflow" }];
  },
  wait_for_signal(c, at) {
    const errs: FieldError[] = [];
    if (!isStepName(c.signal))
      errs.push({ path: `${at}/signal`, message: `signal must be 1-${LIMITS.maxStepNameLength} letters, digits, _ or -` });
    if (c.timeout_ms !== undefined && !isInt(c.timeout_ms, 1, LIMITS.maxSignalTimeoutMs))
      errs.push({ path: `${at}/timeout_ms`, message: `timeout_ms must be an integer from 1 to ${LIMITS.maxSignalTimeoutMs} (30 days)` });
    return errs;
  },
};

const allowedConfigKeys: Record<StepType, string[]> = {
  http: ["method", "url", "headers", "body", "timeout_ms"],
  delay: ["ms"],
  transform: ["output"],
  log: ["message", "level"],
  workflow: ["workflow_id", "input"],
  wait_for_signal: ["signal", "timeout_ms"],
};

const STEP_FIELDS = new Set(["name", "type", "config", "retry", "needs", "if", "for_each", "concurrency", "on_error"]);
const RETRY_FIELDS = new Set(["max_attempts", "backoff_ms"]);

/** What the steps checked so far tell about the ones after them. */
interface Graph {
  /** Every valid step name of the definition, with the index of its first step. */
  index: Map<string, number>;
  /** Each step's name, when it is a valid one. */
  names: Array<string | undefined>;
  /** Per step: the names of the steps it runs after, directly or not (its ancestors through needs). */
  ancestors: Array<Set<string>>;
}

/** `needs` checked, and the valid names in it: unknown, later, repeated or own names are errors. */
function checkNeeds(needs: unknown, i: number, own: unknown, g: Graph, at: string): { errs: FieldError[]; parents: string[] } {
  const parents: string[] = [];
  if (!Array.isArray(needs)) return { errs: [{ path: at, message: "needs must be an array of step names" }], parents };
  if (needs.length > LIMITS.maxNeeds) return { errs: [{ path: at, message: `needs must name at most ${LIMITS.maxNeeds} steps` }], parents };
  const errs: FieldError[] = [];
  needs.forEach((n, j) => {
    const path = `${at}/${j}`;
    const where = isStepName(n) ? g.index.get(n) : undefined;
    if (!isStepName(n)) errs.push({ path, message: `needs must hold step names (1-${LIMITS.maxStepNameLength} letters, digits, _ or -)` });
    else if (n === own) errs.push({ path, message: `a step cannot need itself ("${n}")` });
    else if (parents.includes(n)) errs.push({ path, message: `"${n}" is named twice in needs` });
    else if (where === undefined) errs.push({ path, message: `needs "${n}", which is not a step of this workflow` });
    else if (where > i) errs.push({ path, message: `needs "${n}", which comes after this step; a step may need only earlier steps` });
    else parents.push(n);
  });
  return { errs, parents };
}

/**
 * An `if` or `for_each`: a non-empty CEL expression that compiles, reading only steps this one
 * runs after; `item` and `index` only in an `if` of a `for_each` step (evaluated per item there).
 */
function checkExpression(
  source: unknown,
  at: string,
  field: "if" | "for_each",
  i: number,
  step: Record<string, unknown>,
  g: Graph,
): FieldError[] {
  if (typeof source !== "string" || source.trim().length === 0)
    return [{ path: at, message: `${field} must be a non-empty CEL expression` }];
  if (source.length > LIMITS.maxExpressionLength)
    return [{ path: at, message: `${field} must be at most ${LIMITS.maxExpressionLength} characters long` }];
  if (!isStorableText(source)) return [{ path: at, message: `${field} ${UNSTORABLE_TEXT}` }];
  let compiled: ReturnType<typeof compileExpression>;
  try {
    compiled = compileExpression(source);
  } catch (err) {
    // The compiler's contract is to return its failures; one it throws is still the client's input.
    compiled = { ok: false, message: `${field} is not a valid CEL expression: ${(err as Error).message}` };
  }
  if (!compiled.ok) return [{ path: at, message: compiled.message }];
  const errs: FieldError[] = [];
  for (const target of compiled.expression.steps)
    if (!g.ancestors[i]!.has(target)) {
      const where = g.index.get(target);
      errs.push({
        path: at,
        message:
          where !== undefined && where < i
            ? `${field} reads step "${target}", which this step does not need (directly or through the steps it needs)`
            : `${field} reads step "${target}", which does not run before this one`,
      });
    }
  const perItem = compiled.expression.variables.filter((v) => v === "item" || v === "index");
  if (perItem.length > 0 && field === "for_each")
    errs.push({ path: at, message: `for_each yields the items; it cannot read ${perItem.join(" or ")}` });
  else if (perItem.length > 0 && step.for_each === undefined)
    errs.push({ path: at, message: `${field} reads ${perItem.join(" and ")}, which only a step with for_each has` });
  return errs;
}

/** A placeholder in a step's config that reads what this step cannot see. */
function unreadable(ref: Reference, i: number, step: Record<string, unknown>, g: Graph): string | undefined {
  if (ref.root === "steps") {
    const target = ref.path[0] ?? "";
    if (g.ancestors[i]!.has(target)) return undefined;
    const where = g.index.get(target);
    return where !== undefined && where < i
      ? `${ref.raw} refers to step "${target}", which this step does not need (directly or through the steps it needs)`
      : `${ref.raw} refers to step "${target}", which does not run before this one`;
  }
  if ((ref.root === "item" || ref.root === "index") && step.for_each === undefined)
    return `${ref.raw} reads the current item of a for_each, and this step has no for_each`;
  return undefined;
}

/** Fields of an http step's config where a secret may be sent: nowhere else is it resolved. */
const SECRET_FIELDS = ["url", "headers", "body"];

/** A `{{secrets.NAME}}` outside an http step's url, headers or body (where it would be stored or logged as is). */
function misplacedSecret(ref: Reference, type: StepType, path: string, at: string): string | undefined {
  const field = path.slice(`${at}/config/`.length).split("/")[0];
  if (type === "http" && SECRET_FIELDS.includes(field ?? "")) return undefined;
  return `${ref.raw}: a secret may be read only in an http step's url, headers or body`;
}

/** Every `{{secrets.NAME}}` of a definition, with its path: the service checks that each secret exists. */
export function secretReferences(def: WorkflowDefinition): Array<{ path: string; name: string }> {
  const out: Array<{ path: string; name: string }> = [];
  def.steps.forEach((s, i) => {
    for (const [path, text] of stringsIn(s.config, `/steps/${i}/config`))
      for (const ref of references(text)) if ("root" in ref && ref.root === "secrets") out.push({ path, name: ref.path[0]! });
  });
  return out;
}

function checkStep(step: unknown, i: number, g: Graph, seen: Set<string>, limits: DefinitionLimits): FieldError[] {
  const at = `/steps/${i}`;
  g.ancestors[i] = new Set();
  if (!isObject(step)) return [{ path: at, message: "step must be an object" }];
  const errs: FieldError[] = [];
  const { name, type, config, retry } = step;
  if (!isStepName(name)) errs.push({ path: `${at}/name`, message: `name must be 1-${LIMITS.maxStepNameLength} letters, digits, _ or -` });
  else if (seen.has(name)) errs.push({ path: `${at}/name`, message: `step name "${name}" is used twice` });
  else seen.add(name);

  // Before the config: its placeholders may read only the ancestors found here.
  const ancestors = g.ancestors[i]!;
  const runsAfter = (k: number) => {
    const n = g.names[k];
    if (n !== undefined) ancestors.add(n);
    for (const a of g.ancestors[k]!) ancestors.add(a);
  };
  if (step.needs !== undefined) {
    const needs = checkNeeds(step.needs, i, name, g, `${at}/needs`);
    errs.push(...needs.errs);
    for (const p of needs.parents) runsAfter(g.index.get(p)!);
  } else if (i > 0) runsAfter(i - 1);

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
        const message =
          "error" in ref ? ref.error : ref.root === "secrets" ? misplacedSecret(ref, t, path, at) : unreadable(ref, i, step, g);
        if (message !== undefined) errs.push({ path, message });
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
      for (const k of Object.keys(retry))
        if (!RETRY_FIELDS.has(k)) errs.push({ path: `${at}/retry/${k}`, message: `unknown retry field "${k}"` });
    }
  }

  if (step.if !== undefined) errs.push(...checkExpression(step.if, `${at}/if`, "if", i, step, g));
  if (step.for_each !== undefined) errs.push(...checkExpression(step.for_each, `${at}/for_each`, "for_each", i, step, g));
  if (step.concurrency !== undefined) {
    if (!isInt(step.concurrency, 1, LIMITS.maxConcurrency))
      errs.push({ path: `${at}/concurrency`, message: `concurrency must be an integer from 1 to ${LIMITS.maxConcurrency}` });
    else if (step.for_each === undefined)
      errs.push({ path: `${at}/concurrency`, message: "concurrency applies to the items of a for_each, and this step has no for_each" });
  }
  if (step.on_error !== undefined && !(ON_ERROR as readonly unknown[]).includes(step.on_error))
    errs.push({ path: `${at}/on_error`, message: `on_error must be one of ${ON_ERROR.join(", ")}` });
  for (const k of Object.keys(step)) if (!STEP_FIELDS.has(k)) errs.push({ path: `${at}/${k}`, message: `unknown step field "${k}"` });
  return errs;
}

/**
 * Full semantic validation of a workflow definition: what JSON Schema cannot say (unique step
 * names, per-type config, `needs` naming earlier steps, expressions that compile, placeholders
 * that read only the steps this one runs after). The HTTP schemas check the shape first; this is
 * the authority, shared by every entry point. Whether the workflows that `workflow` steps start
 * exist is for the service that stores the definition (see `childWorkflows`).
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
  errs.push(...flowControlProblems(def));
  if (!Array.isArray(steps) || steps.length < LIMITS.minSteps || steps.length > limits.maxSteps) {
    errs.push({ path: "/steps", message: `steps must be an array of ${LIMITS.minSteps} to ${limits.maxSteps} steps` });
    return errs;
  }
  // Every name first: `needs` tells an unknown step from a later one.
  const names = steps.map((s) => (isObject(s) && isStepName(s.name) ? s.name : undefined));
  const index = new Map<string, number>();
  names.forEach((n, i) => {
    if (n !== undefined && !index.has(n)) index.set(n, i);
  });
  const graph: Graph = { index, names, ancestors: [] };
  const seen = new Set<string>();
  steps.forEach((step, i) => {
    errs.push(...checkStep(step, i, graph, seen, limits));
  });
  // A hostile definition can break thousands of rules; an answer listing them all would be larger
  // than the request.
  return errs.slice(0, MAX_ERRORS);
}
