import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { CronSchedule } from "./cron.ts";
import { dueTicks, scheduleRunKey } from "./ticks.ts";

const parse = (cron: string, timezone?: string): CronSchedule => {
  const s = CronSchedule.parse(cron, timezone);
  if (Array.isArray(s)) throw new Error(JSON.stringify(s));
  return s;
};
const at = (iso: string) => new Date(iso);
const isos = (ds: Date[]) => ds.map((d) => d.toISOString());

describe("dueTicks, against fixed clocks", () => {
  const everySecond = parse("* * * * * *");

  test("nothing before the stored tick; the stored tick is kept", () => {
    const d = dueTicks(everySecond, at("2026-01-01T00:00:05Z"), at("2026-01-01T00:00:04.900Z"), 5000);
    expect(d).toEqual({ ticks: [], missed: false, next: at("2026-01-01T00:00:05Z") });
  });

  test("late ticks inside the misfire window each get a run; the next tick is the first after now", () => {
    const d = dueTicks(everySecond, at("2026-01-01T00:00:05Z"), at("2026-01-01T00:00:07.300Z"), 5000);
    expect(isos(d.ticks)).toEqual(["2026-01-01T00:00:05.000Z", "2026-01-01T00:00:06.000Z", "2026-01-01T00:00:07.000Z"]);
    expect(d.missed).toBe(false);
    expect(d.next).toEqual(at("2026-01-01T00:00:08Z"));
  });

  test("ticks older than the window were missed: one run for the latest of them, then the late ones", () => {
    const d = dueTicks(everySecond, at("2026-01-01T00:00:05Z"), at("2026-01-01T00:01:00.500Z"), 2000);
    expect(isos(d.ticks)).toEqual(["2026-01-01T00:00:58.000Z", "2026-01-01T00:00:59.000Z", "2026-01-01T00:01:00.000Z"]);
    expect(d.missed).toBe(true);
  });

  test("a daily schedule down for two days starts one run, for yesterday's tick", () => {
    const d = dueTicks(parse("0 3 * * *"), at("2026-01-01T03:00:00Z"), at("2026-01-03T02:00:00Z"), 5000);
    expect(d).toEqual({ ticks: [at("2026-01-02T03:00:00Z")], missed: true, next: at("2026-01-03T03:00:00Z") });
  });

  test("missed across a fall-back: the 01:30 tick, once, then the next day's", () => {
    const s = parse("30 1 * * *", "America/New_York");
    const d = dueTicks(s, at("2026-11-01T05:30:00Z"), at("2026-11-01T07:00:00Z"), 5000);
    expect(d).toEqual({ ticks: [at("2026-11-01T05:30:00Z")], missed: true, next: at("2026-11-02T06:30:00Z") });
  });

  test("the run key names the schedule and the tick", () => {
    expect(scheduleRunKey("0190A1B2-0000-7000-8000-000000000001", at("2026-01-01T00:00:05Z"))).toBe(
      "schedule:0190a1b2-0000-7000-8000-000000000001:2026-01-01T00:00:05.000Z",
    );
  });
});

// Expressions: every kind of field, with and without seconds, from every second to once a month.
const field = (min: number, max: number) =>
  fc.oneof(
    fc.constant("*"),
    fc.integer({ min: 2, max: 15 }).map((n) => `*/${n}`),
    fc.integer({ min, max }).map(String),
    fc
      .tuple(fc.integer({ min, max }), fc.integer({ min, max }))
      .map(([a, b]) => (a === b ? String(a) : `${Math.min(a, b)}-${Math.max(a, b)}`)),
    fc.uniqueArray(fc.integer({ min, max }), { minLength: 2, maxLength: 4 }).map((xs) => xs.sort((a, b) => a - b).join(",")),
  );
const expression = fc
  .record({
    seconds: fc.option(field(0, 59), { nil: undefined }),
    minute: field(0, 59),
    hour: field(0, 23),
    dom: fc.oneof(fc.constant("*"), fc.integer({ min: 1, max: 28 }).map(String)),
    dow: fc.oneof(fc.constant("*"), fc.integer({ min: 0, max: 6 }).map(String)),
  })
  .map(({ seconds, minute, hour, dom, dow }) => [seconds, minute, hour, dom, "*", dow].filter((f) => f !== undefined).join(" "));
const zone = fc.constantFrom("UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata");
// Instants around this year's and next year's transitions, and anywhere else.
const instant = fc.date({ min: new Date("2026-01-01T00:00:00Z"), max: new Date("2027-12-31T00:00:00Z"), noInvalidDate: true });

describe("properties", () => {
  test("next ticks strictly increase, the first after t leaves none between (previous(next(t)) <= t), and in UTC every tick matches", () => {
    fc.assert(
      fc.property(expression, zone, instant, (cron, tz, t) => {
        const s = parse(cron, tz);
        let prev = t;
        for (let i = 0; i < 5; i++) {
          const next = s.next(prev);
          if (next === null) return;
          expect(next.getTime()).toBeGreaterThan(prev.getTime());
          expect(s.previous(next)!.getTime()).toBeLessThanOrEqual(prev.getTime());
          if (tz === "UTC") expect(s.matches(next)).toBe(true);
          prev = next;
        }
      }),
      { numRuns: 300 },
    );
  });

  test("in UTC no second between t and next(t) matches", () => {
    const dense = fc.tuple(field(0, 59), fc.constantFrom("*", "*/2")).map(([sec, min]) => `${sec} ${min} * * * *`);
    fc.assert(
      fc.property(dense, instant, (cron, t) => {
        const s = parse(cron);
        const next = s.next(t)!;
        for (let x = Math.floor(t.getTime() / 1000) * 1000 + 1000; x < next.getTime(); x += 1000)
          expect(s.matches(new Date(x))).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  test("a pass hands out due ticks in order, after the stored one, at most one of them missed; every late tick in the window", () => {
    fc.assert(
      fc.property(
        expression,
        zone,
        instant,
        fc.integer({ min: 0, max: 3 * 86_400_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        (cron, tz, t, lateMs, misfireMs) => {
          const s = parse(cron, tz);
          const stored = s.next(t);
          if (stored === null) return;
          const now = new Date(stored.getTime() + lateMs);
          const d = dueTicks(s, stored, now, misfireMs);
          expect(d.ticks.length).toBeGreaterThan(0);
          expect(d.ticks[0]!.getTime()).toBeGreaterThanOrEqual(stored.getTime());
          for (let i = 1; i < d.ticks.length; i++) expect(d.ticks[i]!.getTime()).toBeGreaterThan(d.ticks[i - 1]!.getTime());
          expect(d.ticks.at(-1)!.getTime()).toBeLessThanOrEqual(now.getTime());
          const old = d.ticks.filter((x) => x.getTime() < now.getTime() - misfireMs);
          expect(old.length).toBe(d.missed ? 1 : 0);
          expect(d.next).toEqual(s.next(now));
          // Every tick of the window that is not before the stored one is handed out.
          const windowStart = new Date(Math.max(stored.getTime(), now.getTime() - misfireMs) - 1);
          for (let x = s.next(windowStart); x !== null && x.getTime() <= now.getTime(); x = s.next(x))
            expect(d.ticks.some((y) => y.getTime() === x!.getTime())).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("passes one after another never hand out a tick twice, and lose none while no pass is later than the window", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("* * * * * *", "*/3 * * * * *", "0,20,40 * * * * *", "*/2 * * * * *"),
        zone,
        instant,
        fc.array(fc.integer({ min: 1, max: 4_000 }), { minLength: 1, maxLength: 30 }),
        (cron, tz, start, gaps) => {
          const misfireMs = 5_000;
          const s = parse(cron, tz);
          let stored = s.next(start)!;
          let now = start;
          const seen: number[] = [];
          for (const gap of gaps) {
            now = new Date(now.getTime() + gap);
            const d = dueTicks(s, stored, now, misfireMs);
            expect(d.missed).toBe(false);
            seen.push(...d.ticks.map((x) => x.getTime()));
            stored = d.next!;
          }
          for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
          const all: number[] = [];
          for (let x = s.next(start); x !== null && x.getTime() <= now.getTime(); x = s.next(x)) all.push(x.getTime());
          expect(seen).toEqual(all);
        },
      ),
      { numRuns: 200 },
    );
  });
});
