import { describe, expect, test } from "bun:test";
import { CronSchedule, canonicalTimeZone } from "./cron.ts";

const parse = (cron: string, timezone?: string): CronSchedule => {
  const s = CronSchedule.parse(cron, timezone);
  if (Array.isArray(s)) throw new Error(JSON.stringify(s));
  return s;
};

/** The next `n` ticks strictly after `from`. */
const ticks = (s: CronSchedule, from: string, n: number): string[] => {
  const out: string[] = [];
  for (let t = s.next(new Date(from)); t !== null && out.length < n; t = s.next(t)) out.push(t.toISOString());
  return out;
};

// America/New_York in 2026: clocks go from 02:00 EST to 03:00 EDT on 8 March (07:00Z), and from
// 02:00 EDT back to 01:00 EST on 1 November (06:00Z), so 01:00-01:59 happens twice that day.
const NY = "America/New_York";

describe("daylight saving, against fixed clocks", () => {
  test("a 02:30 tick on a spring-forward day runs once, at 03:00 EDT, the end of the gap; the next day at 02:30 again", () => {
    expect(ticks(parse("30 2 * * *", NY), "2026-03-07T12:00:00Z", 3)).toEqual([
      "2026-03-08T07:00:00.000Z", // 03:00 EDT
      "2026-03-09T06:30:00.000Z", // 02:30 EDT
      "2026-03-10T06:30:00.000Z",
    ]);
    // 01:30 exists that day: it runs as usual.
    expect(ticks(parse("30 1 * * *", NY), "2026-03-07T12:00:00Z", 1)).toEqual(["2026-03-08T06:30:00.000Z"]);
    // The same with seconds, and with a list of hours (a fixed time too, as in Vixie cron).
    expect(ticks(parse("0 30 2 * * *", NY), "2026-03-07T12:00:00Z", 1)).toEqual(["2026-03-08T07:00:00.000Z"]);
    expect(ticks(parse("30 2,14 * * *", NY), "2026-03-07T20:00:00Z", 3)).toEqual([
      "2026-03-08T07:00:00.000Z",
      "2026-03-08T18:30:00.000Z", // 14:30 EDT
      "2026-03-09T06:30:00.000Z",
    ]);
  });

  test("a 01:30 tick on a fall-back day runs once, at the first 01:30 (EDT), not again an hour later (EST)", () => {
    expect(ticks(parse("30 1 * * *", NY), "2026-10-31T12:00:00Z", 3)).toEqual([
      "2026-11-01T05:30:00.000Z", // 01:30 EDT; 06:30Z, 01:30 EST, is skipped
      "2026-11-02T06:30:00.000Z", // 01:30 EST
      "2026-11-03T06:30:00.000Z",
    ]);
    // A fixed time outside the repeated hour is not repeated either.
    expect(ticks(parse("30 2 * * *", NY), "2026-10-31T12:00:00Z", 2)).toEqual(["2026-11-01T07:30:00.000Z", "2026-11-02T07:30:00.000Z"]);
    // Asked from inside the repeated hour, after the first 01:30: the next is the next day's.
    expect(ticks(parse("30 1 * * *", NY), "2026-11-01T06:10:00Z", 1)).toEqual(["2026-11-02T06:30:00.000Z"]);
  });

  test("an interval keeps its pace in real time: no tick in the spring gap, both passes of the repeated hour in autumn", () => {
    expect(ticks(parse("*/30 * * * *", NY), "2026-03-08T06:00:00Z", 4)).toEqual([
      "2026-03-08T06:30:00.000Z", // 01:30 EST
      "2026-03-08T07:00:00.000Z", // 03:00 EDT: 02:00 and 02:30 do not exist
      "2026-03-08T07:30:00.000Z",
      "2026-03-08T08:00:00.000Z",
    ]);
    expect(ticks(parse("*/30 * * * *", NY), "2026-11-01T04:45:00Z", 5)).toEqual([
      "2026-11-01T05:00:00.000Z", // 01:00 EDT
      "2026-11-01T05:30:00.000Z", // 01:30 EDT
      "2026-11-01T06:00:00.000Z", // 01:00 EST
      "2026-11-01T06:30:00.000Z", // 01:30 EST
      "2026-11-01T07:00:00.000Z", // 02:00 EST
    ]);
  });

  test("previous() walks back through the same days in real time", () => {
    const s = parse("30 1 * * *", NY);
    expect(s.previous(new Date("2026-11-01T07:00:00Z"))?.toISOString()).toBe("2026-11-01T05:30:00.000Z");
    expect(parse("30 2 * * *", NY).previous(new Date("2026-03-08T08:00:00Z"))?.toISOString()).toBe("2026-03-08T07:00:00.000Z");
  });

  test("a zone without daylight saving, and UTC by default", () => {
    expect(ticks(parse("0 9 * * MON"), "2026-01-01T00:00:00Z", 2)).toEqual(["2026-01-05T09:00:00.000Z", "2026-01-12T09:00:00.000Z"]);
    expect(ticks(parse("0 9 * * *", "Asia/Kolkata"), "2026-01-01T00:00:00Z", 1)).toEqual(["2026-01-01T03:30:00.000Z"]);
  });
});

describe("parsing", () => {
  test("five fields are minutes, six start with seconds; the next tick is strictly after the given instant", () => {
    expect(ticks(parse("* * * * *"), "2026-01-01T00:00:00Z", 2)).toEqual(["2026-01-01T00:01:00.000Z", "2026-01-01T00:02:00.000Z"]);
    expect(ticks(parse("* * * * * *"), "2026-01-01T00:00:00.500Z", 2)).toEqual(["2026-01-01T00:00:01.000Z", "2026-01-01T00:00:02.000Z"]);
    expect(ticks(parse("*/15 * * * * *"), "2026-01-01T00:00:15Z", 1)).toEqual(["2026-01-01T00:00:30.000Z"]);
  });

  test("the time zone is kept as the time-zone database spells it; the expression as sent, trimmed", () => {
    const s = parse("  0 0 * * *  ", "europe/berlin");
    expect([s.expression, s.timezone]).toEqual(["0 0 * * *", "Europe/Berlin"]);
    expect(canonicalTimeZone("utc")).toBe("UTC");
  });

  test("bad expressions and zones are errors at /cron and /timezone, naming what is wrong", () => {
    const errors = (cron: string, tz?: string) => {
      const s = CronSchedule.parse(cron, tz);
      return Array.isArray(s) ? s : [];
    };
    expect(errors("* * *")).toEqual([
      { path: "/cron", message: "a cron expression has 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), not 3" },
    ]);
    expect(errors("0 0 0 1 1 * 2030")[0]!.message).toEndWith("not 7");
    expect(errors("")[0]!.path).toBe("/cron");
    expect(errors("61 * * * *")).toEqual([{ path: "/cron", message: "invalid cron expression: Invalid value for minute: 61" }]);
    expect(errors("* * * * 8")[0]!.message).toContain("dayOfWeek");
    expect(errors("*/0 * * * *")[0]!.message).toContain("illegal stepping");
    expect(errors("@reboot")).toHaveLength(1);
    expect(errors("x".repeat(201))).toEqual([{ path: "/cron", message: "a cron expression is at most 200 characters" }]);
    for (const tz of ["Mars/Olympus", "+01:00", "", "UTC+1"])
      expect(errors("* * * * *", tz)).toEqual([{ path: "/timezone", message: `${JSON.stringify(tz)} is not an IANA time zone name` }]);
    expect(errors("nope", "Nowhere/Else").map((e) => e.path)).toEqual(["/timezone", "/cron"]);
  });

  test("an expression that names no real date parses, and has no tick", () => {
    expect(parse("0 0 31 2 *").next(new Date("2026-01-01T00:00:00Z"))).toBeNull();
  });
});
