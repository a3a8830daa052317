import { Cron } from "croner";
import type { FieldError } from "../errors.ts";

/** The time zone of a schedule that names none. */
export const DEFAULT_TIMEZONE = "UTC";

/** Longest cron expression accepted: the longest sane one (every field a list) is far shorter. */
export const MAX_CRON_LENGTH = 200;

/**
 * The IANA name of a time zone, as the runtime's time-zone database spells it (case put right:
 * "europe/berlin" is Europe/Berlin); undefined for a name it does not know. UTC offsets such as
 * "+01:00", which newer runtimes also take, are refused: they have no daylight-saving rules, and
 * the contract asks for a zone's name.
 */
export function canonicalTimeZone(name: string): string | undefined {
  if (!/^[A-Za-z]/.test(name)) return undefined;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/**
 * A cron expression in a time zone: its ticks as instants. Five fields (minute precision) or six
 * (seconds first), Vixie cron's syntax with croner's extensions (names, `L`, `W`, `#`, nicknames
 * such as `@daily`); day of month and day of week are OR-ed, as in Vixie cron.
 *
 * Daylight saving follows Vixie cron, as croner implements it (docs/schedules.md). A fixed-time
 * expression (no `*` and no step in seconds, minutes and hours, e.g. `30 2 * * *`) runs a time
 * that a spring-forward skips at the end of the gap (03:00), once, and a time that a fall-back
 * repeats once, at its first occurrence. Any other expression (`*`, `*\/15`) keeps its pace in
 * real time: times in the gap do not exist, and a repeated hour runs twice.
 */
export class CronSchedule {
  private constructor(
    private readonly cron: Cron,
    readonly expression: string,
    readonly timezone: string,
  ) {}

  /** The schedule, or what is wrong with it at `/cron` and `/timezone`. */
  static parse(expression: string, timezone: string = DEFAULT_TIMEZONE): CronSchedule | FieldError[] {
    const errors: FieldError[] = [];
    const zone = canonicalTimeZone(timezone);
    if (zone === undefined) errors.push({ path: "/timezone", message: `${JSON.stringify(timezone)} is not an IANA time zone name` });
    let cron: Cron | undefined;
    const fields = expression.trim().split(/\s+/).length;
    if (expression.length > MAX_CRON_LENGTH)
      errors.push({ path: "/cron", message: `a cron expression is at most ${MAX_CRON_LENGTH} characters` });
    else if (!expression.trim().startsWith("@") && fields !== 5 && fields !== 6)
      // croner's own message offers seven fields, which the contract does not.
      errors.push({
        path: "/cron",
        message: `a cron expression has 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), not ${fields}`,
      });
    else
      try {
        cron = new Cron(expression.trim(), {
          timezone: zone ?? DEFAULT_TIMEZONE,
          // Five fields, or six with seconds; croner's seventh (a year) is not part of the contract.
          mode: "5-or-6-parts",
          // Lists and ranges (`30 2,14 * * *`) are fixed times too, as in Vixie cron.
          fixedTimeRule: "no-wildcard",
          paused: true,
        });
      } catch (err) {
        errors.push({ path: "/cron", message: cronMessage(err) });
      }
    if (errors.length > 0 || cron === undefined) return errors;
    return new CronSchedule(cron, expression.trim(), zone!);
  }

  /** The first tick strictly after `after`; null when there is none (a date that never comes, such as 31 February). */
  next(after: Date): Date | null {
    return this.cron.nextRun(after);
  }

  /** The last tick strictly before `before`; null when there is none. */
  previous(before: Date): Date | null {
    return this.cron.previousRuns(1, before)[0] ?? null;
  }

  /** Whether `at` is a time the expression names, in its zone (a tick moved to the end of a DST gap is not). */
  matches(at: Date): boolean {
    return this.cron.match(at);
  }
}

/** croner's message, without its class-name prefix. */
function cronMessage(err: unknown): string {
  const raw = err instanceof Error ? err.message : String(err);
  return `invalid cron expression: ${raw.replace(/^Cron\w*:\s*/, "")}`;
}
