import type { CronSchedule } from "./cron.ts";

/** Most on-time ticks one pass hands out for one schedule (a six-field `* * * * * *` and a long misfire window). */
export const MAX_TICKS_PER_PASS = 3600;

export interface DueTicks {
  /** The ticks to start a run for, oldest first: at most one missed tick, then the late ones. */
  ticks: Date[];
  /** Whether `ticks[0]` stands for one or more missed ticks (older than the misfire window). */
  missed: boolean;
  /** The schedule's next tick: the first after `now`; null when the expression has no more. */
  next: Date | null;
}

/**
 * Which ticks of a schedule a pass at `now` starts runs for, given its stored next tick, and the
 * next tick to store. Every tick at most `misfireMs` old is late, not missed: each gets its own
 * run, so a ticker that was slow for a moment loses none. Ticks older than that were missed (no
 * ticker ran for a while): together they start ONE run, for the latest of them. The next tick is
 * always after `now`, so no tick is handed out twice by passes that follow one another; passes
 * that race are kept apart by the store (a row lock, and the run's idempotency key).
 *
 * `now` is the store's clock, the same for every ticker, so a ticker whose own clock is off
 * neither skips nor repeats ticks.
 */
export function dueTicks(cron: CronSchedule, nextRunAt: Date, now: Date, misfireMs: number): DueTicks {
  const next = cron.next(now);
  if (nextRunAt.getTime() > now.getTime()) return { ticks: [], missed: false, next: nextRunAt };
  const onTimeFrom = new Date(now.getTime() - misfireMs);
  const ticks: Date[] = [];
  let missed = false;
  if (nextRunAt.getTime() < onTimeFrom.getTime()) {
    // The stored tick is itself the latest missed one when no later tick came before the window.
    const latest = cron.previous(onTimeFrom);
    ticks.push(latest !== null && latest.getTime() >= nextRunAt.getTime() ? latest : nextRunAt);
    missed = true;
  }
  // The late ticks: from the window's start (or the stored tick, if inside it) to now, both included.
  const from = Math.max(nextRunAt.getTime(), onTimeFrom.getTime());
  for (let t = cron.next(new Date(from - 1)); t !== null && t.getTime() <= now.getTime(); t = cron.next(t)) {
    if (ticks.length > MAX_TICKS_PER_PASS) break;
    if (missed && t.getTime() <= ticks[0]!.getTime()) continue;
    ticks.push(t);
  }
  return { ticks, missed, next };
}

/** The idempotency key of a tick's run: one run per schedule and tick, whoever writes it and however often. */
export const scheduleRunKey = (scheduleId: string, tick: Date): string => `schedule:${scheduleId.toLowerCase()}:${tick.toISOString()}`;
