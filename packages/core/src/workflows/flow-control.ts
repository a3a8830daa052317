/**
 * The workflow-level fields that govern its runs rather than its steps: `concurrency` (at most
 * `limit` runs of the workflow, per value of `key`, running at once) and `timeout_ms` (a run's
 * total time from its start, parked time included).
 */
import type { FieldError } from "../errors.ts";
import { isStorableText, UNSTORABLE_TEXT } from "../json/storable.ts";
import { references } from "../templates/template.ts";

const THIRTY_DAYS_MS = 30 * 24 * 3_600_000;

export const FLOW_LIMITS = {
  maxConcurrencyLimit: 10_000,
  maxKeyLength: 1_000,
  maxRunTimeoutMs: THIRTY_DAYS_MS,
} as const;

export interface Concurrency {
  /** How many runs (of one key value) may be `running` at once. */
  limit: number;
  /** A template over the run's input, e.g. `{{input.customer}}`; absent: one limit for all the runs. */
  key?: string;
}

/** What a workflow adds to its steps for its runs; absent fields: no limit. */
export interface FlowControl {
  concurrency?: Concurrency;
  timeout_ms?: number;
}

/**
 * A key template compiled for the trigger's SQL: literal text, or the path of an input value (a
 * run's key is the text of its parts joined; see insertPending).
 */
export type KeyPart = string | { input: string[] };

const PLACEHOLDER = /\{\{[^{}]*\}\}/g;

/** The parts of a key template that `flowControlProblems` accepted; the whole text as one literal if there is no placeholder. */
export function compileKey(template: string): KeyPart[] {
  const parts: KeyPart[] = [];
  let at = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (m.index > at) parts.push(template.slice(at, m.index));
    const ref = references(m[0])[0];
    // Validated: only input references reach here.
    if (ref && "root" in ref && ref.root === "input") parts.push({ input: ref.path });
    at = m.index + m[0].length;
  }
  if (at < template.length) parts.push(template.slice(at));
  return parts;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const isInt = (v: unknown, min: number, max: number): boolean => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

/** The problems of a definition's `concurrency` and `timeout_ms`, at their paths. */
export function flowControlProblems(def: Record<string, unknown>): FieldError[] {
  const errs: FieldError[] = [];
  const { concurrency, timeout_ms } = def;
  if (concurrency !== undefined) {
    if (!isObject(concurrency)) errs.push({ path: "/concurrency", message: "concurrency must be an object {limit, key?}" });
    else {
      if (!isInt(concurrency.limit, 1, FLOW_LIMITS.maxConcurrencyLimit))
        errs.push({
          path: "/concurrency/limit",
          message: `limit must be an integer from 1 to ${FLOW_LIMITS.maxConcurrencyLimit}`,
        });
      if (concurrency.key !== undefined) errs.push(...keyProblems(concurrency.key));
      for (const k of Object.keys(concurrency))
        if (k !== "limit" && k !== "key") errs.push({ path: `/concurrency/${k}`, message: `unknown concurrency field "${k}"` });
    }
  }
  if (timeout_ms !== undefined && !isInt(timeout_ms, 1, FLOW_LIMITS.maxRunTimeoutMs))
    errs.push({ path: "/timeout_ms", message: `timeout_ms must be an integer from 1 to ${FLOW_LIMITS.maxRunTimeoutMs} (30 days)` });
  return errs;
}

function keyProblems(key: unknown): FieldError[] {
  const path = "/concurrency/key";
  if (typeof key !== "string" || key.trim().length === 0 || key.length > FLOW_LIMITS.maxKeyLength)
    return [{ path, message: `key must be a non-blank template of at most ${FLOW_LIMITS.maxKeyLength} characters` }];
  if (!isStorableText(key)) return [{ path, message: `key ${UNSTORABLE_TEXT}` }];
  // Computed when a run is triggered: only the input exists then.
  return references(key).flatMap((ref) =>
    "error" in ref
      ? [{ path, message: ref.error }]
      : ref.root === "input"
        ? []
        : [{ path, message: `${ref.raw}: a concurrency key may read only the run's input ({{input.<path>}})` }],
  );
}
