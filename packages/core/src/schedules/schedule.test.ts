import { describe, expect, test } from "bun:test";
import { toSchedule, validateSchedule } from "./schedule.ts";

const limits = { maxInputBytes: 64 };
const now = new Date("2026-03-07T12:00:00.250Z");
const WF = "0190a1b2-0000-7000-8000-000000000001";
const specOf = (r: ReturnType<typeof validateSchedule>) => {
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.spec;
};

describe("validateSchedule", () => {
  test("defaults: UTC, input {}, enabled, overlap allow; next_run_at the first tick after now", () => {
    expect(validateSchedule({ workflow_id: WF.toUpperCase(), cron: "*/5 * * * *" }, limits, now)).toEqual({
      spec: {
        workflow_id: WF,
        cron: "*/5 * * * *",
        timezone: "UTC",
        input: {},
        enabled: true,
        overlap: "allow",
        next_run_at: new Date("2026-03-07T12:05:00Z"),
      },
    });
  });

  test("a zone's spring-forward day: the first tick is at the end of the gap", () => {
    const r = validateSchedule({ workflow_id: WF, cron: "30 2 * * *", timezone: "america/new_york", overlap: "skip" }, limits, now);
    expect(specOf(r)).toMatchObject({ timezone: "America/New_York", overlap: "skip", next_run_at: new Date("2026-03-08T07:00:00Z") });
  });

  test("a disabled schedule has no next tick", () => {
    expect(specOf(validateSchedule({ workflow_id: WF, cron: "* * * * *", enabled: false }, limits, now)).next_run_at).toBeNull();
  });

  test("every problem at its path: the expression, the zone, the input", () => {
    const r = validateSchedule({ workflow_id: WF, cron: "0 0 31 2 *", input: { s: "x".repeat(80) } }, limits, now);
    expect(r.errors).toEqual([
      { path: "/cron", message: 'the cron expression "0 0 31 2 *" names no date after now' },
      { path: "/input", message: "input is 88 bytes of JSON; at most 64 are accepted" },
    ]);
    const bad = validateSchedule({ workflow_id: WF, cron: "99 * * * *", timezone: "Nowhere", input: { a: "\u0000" } }, limits, now);
    expect(bad.errors?.map((e) => e.path)).toEqual(["/timezone", "/cron", "/input/a"]);
  });
});

test("toSchedule shows timestamps as RFC 3339 and nulls as null", () => {
  const created = new Date("2026-01-01T00:00:00Z");
  expect(
    toSchedule({
      id: WF,
      workflow_id: WF,
      cron: "* * * * *",
      timezone: "UTC",
      input: {},
      enabled: false,
      overlap: "allow",
      next_run_at: null,
      last_tick_at: created,
      last_run_id: null,
      last_error: null,
      created_at: created,
      updated_at: created,
    }),
  ).toMatchObject({ next_run_at: null, last_tick_at: "2026-01-01T00:00:00.000Z", created_at: "2026-01-01T00:00:00.000Z" });
});
