import type { FieldError } from "../errors.ts";
import { isStorableText, jsonBytes, jsonValueProblems, UNSTORABLE_TEXT } from "../json/storable.ts";

/** The largest input accepted unless TRIGGER_MAX_INPUT_BYTES says otherwise. */
export const DEFAULT_MAX_INPUT_BYTES = 65_536;

/** The longest `delay_ms` of a trigger, as a `delay` step's longest wait. */
export const MAX_TRIGGER_DELAY_MS = 30 * 24 * 3_600_000;

export interface TriggerLimits {
  /** Largest input, in UTF-8 bytes of its JSON (TRIGGER_MAX_INPUT_BYTES). */
  maxInputBytes: number;
}

export interface TriggerFields {
  input?: unknown;
  idempotency_key?: string;
  run_at?: string;
  delay_ms?: number;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;

const EARLIEST_MS = Date.parse("0001-01-01T00:00:00Z");

/**
 * An RFC 3339 date-time with its offset, as a Date; undefined when it is not one or names no real
 * instant (February 30th, hour 24: Date.parse would roll those over into another day).
 */
export function parseRfc3339(text: string): Date | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return undefined;
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return undefined;
  const ms = Date.parse(text.toUpperCase());
  // PostgreSQL has no year 0 (RFC 3339's 0000 is 1 BC): an earlier instant is taken as the first
  // one it stores, which no run precedes and which is as past as any (a run_at, a range bound).
  return Number.isNaN(ms) ? undefined : new Date(Math.max(ms, EARLIEST_MS));
}

/**
 * What the HTTP schema cannot say about a trigger: the input is stored with the run and sent back
 * on every read of it (up to 200 runs a page), so its size is bounded; the input and the key must
 * be storable as they are (see json/storable.ts); a later start is given once, by `run_at` (a real
 * instant) or by `delay_ms`.
 */
export function validateTrigger(req: TriggerFields, limits: TriggerLimits): FieldError[] {
  const errs: FieldError[] = [];
  if (req.idempotency_key !== undefined && !isStorableText(req.idempotency_key))
    errs.push({ path: "/idempotency_key", message: `idempotency_key ${UNSTORABLE_TEXT}` });
  if (req.input !== undefined) {
    const bytes = jsonBytes(req.input);
    if (bytes > limits.maxInputBytes)
      errs.push({ path: "/input", message: `input is ${bytes} bytes of JSON; at most ${limits.maxInputBytes} are accepted` });
    else errs.push(...jsonValueProblems(req.input, "/input"));
  }
  if (req.run_at !== undefined && (typeof req.run_at !== "string" || parseRfc3339(req.run_at) === undefined))
    errs.push({ path: "/run_at", message: "run_at must be an RFC 3339 date-time with its offset, e.g. 2030-01-31T09:00:00Z" });
  if (
    req.delay_ms !== undefined &&
    !(Number.isInteger(req.delay_ms) && (req.delay_ms as number) >= 0 && (req.delay_ms as number) <= MAX_TRIGGER_DELAY_MS)
  )
    errs.push({ path: "/delay_ms", message: `delay_ms must be an integer from 0 to ${MAX_TRIGGER_DELAY_MS} (30 days)` });
  if (req.run_at !== undefined && req.delay_ms !== undefined)
    errs.push({ path: "/delay_ms", message: "give run_at or delay_ms, not both" });
  return errs;
}
