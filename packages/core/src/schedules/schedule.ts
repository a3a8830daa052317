import type { FieldError } from "../errors.ts";
import { validateTrigger } from "../runs/trigger-rules.ts";
import { CronSchedule, DEFAULT_TIMEZONE } from "./cron.ts";

/** What a tick does while the schedule's previous run is not finished: start one more anyway, or skip the tick. */
export const OVERLAP_POLICIES = ["allow", "skip"] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/** A schedule as `POST` and `PUT /api/v1/schedules` take it; absent fields take their defaults. */
export interface ScheduleInput {
  workflow_id: string;
  cron: string;
  timezone?: string;
  input?: Record<string, unknown>;
  enabled?: boolean;
  overlap?: OverlapPolicy;
}

/** A schedule as the API shows it. */
export interface Schedule {
  id: string;
  workflow_id: string;
  cron: string;
  timezone: string;
  input: Record<string, unknown>;
  enabled: boolean;
  overlap: OverlapPolicy;
  /** The next tick; null while disabled, or when the expression names no more dates. */
  next_run_at: string | null;
  /** The latest tick handled, whether it started a run or was skipped. */
  last_tick_at: string | null;
  /** The run the latest tick that started one started. */
  last_run_id: string | null;
  /** Why the latest tick started no run (the previous run still going with overlap skip, the workflow deleted); null once one does. */
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

/** A schedule as stored. */
export interface ScheduleRow extends Omit<Schedule, "next_run_at" | "last_tick_at" | "created_at" | "updated_at"> {
  next_run_at: Date | null;
  last_tick_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** A valid schedule with its defaults filled in, its time zone spelled as the time-zone database does. */
export interface ScheduleSpec extends Pick<Schedule, "workflow_id" | "cron" | "timezone" | "input" | "enabled" | "overlap"> {
  /** The first tick after the moment it was checked; null when disabled. */
  next_run_at: Date | null;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export const toSchedule = (r: ScheduleRow): Schedule => ({
  id: r.id,
  workflow_id: r.workflow_id,
  cron: r.cron,
  timezone: r.timezone,
  input: r.input,
  enabled: r.enabled,
  overlap: r.overlap,
  next_run_at: iso(r.next_run_at),
  last_tick_at: iso(r.last_tick_at),
  last_run_id: r.last_run_id,
  last_error: r.last_error,
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
});

/**
 * What the HTTP schema cannot say about a schedule: the cron expression and the time zone must
 * parse, the expression must name a date after `now` (`0 0 31 2 *` never comes), and the input
 * follows a trigger's rules (it is every tick's run's input). The spec, or the errors by path.
 */
export function validateSchedule(
  req: ScheduleInput,
  limits: { maxInputBytes: number },
  now: Date,
): { spec: ScheduleSpec; errors?: undefined } | { errors: FieldError[] } {
  const errors = validateTrigger({ input: req.input }, limits);
  const cron = CronSchedule.parse(req.cron, req.timezone ?? DEFAULT_TIMEZONE);
  if (Array.isArray(cron)) return { errors: [...cron, ...errors] };
  const first = cron.next(now);
  if (first === null) errors.unshift({ path: "/cron", message: `the cron expression ${JSON.stringify(req.cron)} names no date after now` });
  if (errors.length > 0) return { errors };
  const enabled = req.enabled ?? true;
  return {
    spec: {
      workflow_id: req.workflow_id.toLowerCase(),
      cron: cron.expression,
      timezone: cron.timezone,
      input: req.input ?? {},
      enabled,
      overlap: req.overlap ?? "allow",
      next_run_at: enabled ? first : null,
    },
  };
}
