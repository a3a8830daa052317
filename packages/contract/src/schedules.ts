import { DEFAULT_MAX_INPUT_BYTES } from "@wf/core/runs";
import { DEFAULT_TIMEZONE, MAX_CRON_LENGTH, OVERLAP_POLICIES } from "@wf/core/schedules";
import { t } from "elysia";
import { oneOf, responseOnly } from "./types.ts";

const Timestamp = t.String({ format: "date-time" });

export const ScheduleInput = t.Object(
  {
    workflow_id: t.String({ format: "uuid", description: "The workflow each tick starts a run of; an unknown one is a 422" }),
    cron: t.String({
      minLength: 1,
      maxLength: MAX_CRON_LENGTH,
      description:
        'Five fields, "minute hour day-of-month month day-of-week", or six with seconds first ("*/10 * * * * *": every ten seconds). Vixie cron syntax: lists, ranges, steps, month and day names, day of month OR day of week; also L, W, # and nicknames such as @daily. An expression that does not parse, or names no date to come ("0 0 31 2 *"), is a 422 at /cron.',
    }),
    timezone: t.Optional(
      t.String({
        minLength: 1,
        maxLength: 64,
        description: `An IANA time zone name ("Europe/Berlin"), in which the expression is read; default ${DEFAULT_TIMEZONE}. Daylight saving: a fixed time that a spring-forward skips (02:30) runs once at the end of the gap (03:00); a fixed time that a fall-back repeats (01:30) runs once, at its first occurrence; an interval ("*/15 * * * *") keeps its pace in real time. An unknown name, or a UTC offset, is a 422 at /timezone.`,
      }),
    ),
    input: t.Optional(
      t.Record(t.String(), t.Unknown(), {
        description: `The input of every run a tick starts, as a trigger's input: at most TRIGGER_MAX_INPUT_BYTES bytes of JSON (${DEFAULT_MAX_INPUT_BYTES} by default). Default {}.`,
      }),
    ),
    enabled: t.Optional(
      t.Boolean({
        description: "Default true. A disabled schedule has no next tick; enabled again, it starts from the first tick after then.",
      }),
    ),
    overlap: t.Optional(
      oneOf([...OVERLAP_POLICIES], {
        description:
          "allow (the default): every tick starts a run; skip: a tick starts none while the run of an earlier tick is pending or running (last_error says so).",
      }),
    ),
  },
  { additionalProperties: false },
);

export const Schedule = responseOnly(
  t.Object({
    id: t.String({ format: "uuid" }),
    workflow_id: t.String({ format: "uuid" }),
    cron: t.String(),
    timezone: t.String({ description: "As the time-zone database spells it" }),
    input: t.Record(t.String(), t.Unknown()),
    enabled: t.Boolean(),
    overlap: oneOf([...OVERLAP_POLICIES]),
    next_run_at: t.Nullable(
      t.String({
        format: "date-time",
        description:
          "The next tick, in UTC; null while disabled. Its run is started within SCHEDULE_POLL_MS of it, with the idempotency key schedule:<id>:<tick>, once whatever the number of workers and restarts.",
      }),
    ),
    last_tick_at: t.Nullable(t.String({ format: "date-time", description: "The latest tick handled, whether it started a run or not" })),
    last_run_id: t.Nullable(t.String({ format: "uuid", description: "The run started by the latest tick that started one" })),
    last_error: t.Nullable(
      t.String({
        description:
          "Why the latest tick started no run (the workflow was deleted; overlap skip with the previous run unfinished); null when it started one",
      }),
    ),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
);

export const SchedulePage = responseOnly(t.Object({ items: t.Array(Schedule), next_cursor: t.Nullable(t.String()) }));
