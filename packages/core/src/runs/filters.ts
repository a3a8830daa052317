import type { FieldError } from "../errors.ts";
import { isUuid } from "../ids.ts";
import { RUN_STATUSES, type RunStatus } from "./run.ts";
import { parseRfc3339 } from "./trigger-rules.ts";

/**
 * Which runs a list, or a bulk action, is about. Every field narrows: a run matches when it
 * matches all of them. `status` holds distinct statuses in RUN_STATUSES order.
 */
export interface RunFilter {
  status?: readonly RunStatus[];
  workflowId?: string;
  scheduleId?: string;
  parentRunId?: string;
  /** Runs created strictly after this instant. */
  createdAfter?: Date;
  /** Runs created strictly before this instant. */
  createdBefore?: Date;
}

/** The filters as a query string (GET /runs) or a bulk action's body spells them. */
export interface RunFilterFields {
  /** One status or several, comma-separated. */
  status?: string;
  workflow_id?: string;
  schedule_id?: string;
  parent_run_id?: string;
  /** RFC 3339. */
  created_after?: string;
  created_before?: string;
}

/** The statuses a cancel applies to (and a bulk cancel's filter may name): a finished run stays as it ended. */
export const CANCELLABLE_STATUSES: readonly RunStatus[] = ["pending", "running"];
/** The statuses a bulk replay may name: only a finished run is replayed. */
export const FINISHED_STATUSES: readonly RunStatus[] = ["completed", "failed", "cancelled"];

/** A comma-separated list of statuses out of `allowed`, as a regular expression's source (the schemas' `pattern`). */
export const statusListPattern = (allowed: readonly RunStatus[] = RUN_STATUSES): string => {
  const one = `(${allowed.join("|")})`;
  return `^${one}(,${one})*$`;
};

/**
 * RFC 3339 with its offset, the ranges of each field included: what parseRfc3339 takes, less the
 * calendar (February 30th), which the schemas' `date-time` format checks.
 */
export const RFC3339_PATTERN =
  "^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])[Tt]([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,9})?([Zz]|[+-]([01]\\d|2[0-3]):[0-5]\\d)$";

/**
 * A bound of a created-time range as the instant to compare with. created_at has millisecond
 * precision (the UUIDv7's instant), so a bound with finer digits is rounded to the millisecond
 * that keeps the comparison exact: down for "after" (created_at > t), up for "before" (< t).
 */
function bound(text: string, round: "down" | "up"): Date | undefined {
  const at = parseRfc3339(text);
  if (!at) return undefined;
  const fraction = /\.(\d+)/.exec(text)?.[1] ?? "";
  const finer = /[1-9]/.test(fraction.slice(3));
  return round === "up" && finer ? new Date(at.getTime() + 1) : at;
}

/**
 * The filter the fields describe, or the errors (one per bad field, at its path). `allowed`
 * narrows the statuses a caller may name (a bulk cancel: only unfinished ones).
 */
export function parseRunFilter(
  fields: RunFilterFields,
  allowed: readonly RunStatus[] = RUN_STATUSES,
): { filter: RunFilter; errors: [] } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  const filter: RunFilter = {};
  if (fields.status !== undefined) {
    const named = fields.status.split(",");
    const bad = named.filter((s) => !(allowed as readonly string[]).includes(s));
    if (bad.length > 0) errors.push({ path: "/status", message: `each status must be one of ${allowed.join(", ")} (comma-separated)` });
    else filter.status = allowed.filter((s) => named.includes(s));
  }
  const ids = [
    ["workflow_id", "workflowId"],
    ["schedule_id", "scheduleId"],
    ["parent_run_id", "parentRunId"],
  ] as const;
  for (const [field, key] of ids) {
    const v = fields[field];
    if (v === undefined) continue;
    if (isUuid(v)) filter[key] = v.toLowerCase();
    else errors.push({ path: `/${field}`, message: "must be a UUID" });
  }
  const times = [
    ["created_after", "createdAfter", "down"],
    ["created_before", "createdBefore", "up"],
  ] as const;
  for (const [field, key, round] of times) {
    const v = fields[field];
    if (v === undefined) continue;
    const at = bound(v, round);
    if (at) filter[key] = at;
    else errors.push({ path: `/${field}`, message: "must be an RFC 3339 date-time with its offset" });
  }
  return errors.length > 0 ? { errors } : { filter, errors: [] };
}

/** True when the filter narrows nothing: every run matches. */
export const isEmptyFilter = (f: RunFilter): boolean =>
  f.status === undefined &&
  f.workflowId === undefined &&
  f.scheduleId === undefined &&
  f.parentRunId === undefined &&
  f.createdAfter === undefined &&
  f.createdBefore === undefined;

/**
 * The filter as text, for a cursor's scope (a cursor is valid only with the filters it was issued
 * for) and for keys of identical requests. The v1 filters alone keep the v1 form
 * (`runs:<status>:<workflow_id>`), so cursors of those lists stay what they were.
 */
export function runFilterScope(f: RunFilter): string {
  const v1 = `runs:${f.status?.join(",") ?? ""}:${f.workflowId ?? ""}`;
  const more = [f.scheduleId, f.parentRunId, f.createdAfter?.getTime(), f.createdBefore?.getTime()];
  return more.every((x) => x === undefined) ? v1 : `${v1}:${more.map((x) => x ?? "").join(":")}`;
}
