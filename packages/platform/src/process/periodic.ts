/** A task run again and again, never two passes at once; see `startPeriodic`. */
export interface Periodic {
  stop(): void;
}

/** What a pass may say of the next one: run it sooner than the interval (0: at once). */
export type PassResult = { againInMs?: number } | undefined;

/**
 * Runs `pass` every `intervalMs`, the next pass only once the last is over, so a slow pass never
 * overlaps the next; a pass may ask for the next one sooner (`againInMs`, never later than the
 * interval). The first pass comes after one interval, or at once with `immediate`. A failed pass is
 * reported to `onError` and the loop goes on.
 */
export function startPeriodic(
  pass: () => Promise<PassResult>,
  intervalMs: number,
  onError: (err: unknown) => void,
  opts: { immediate?: boolean } = {},
): Periodic {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const loop = async () => {
    if (stopped) return;
    let wait = intervalMs;
    try {
      const again = (await pass())?.againInMs;
      if (again !== undefined) wait = Math.max(0, Math.min(intervalMs, again));
    } catch (err) {
      onError(err);
    }
    if (!stopped) timer = setTimeout(loop, wait);
  };
  timer = setTimeout(loop, opts.immediate ? 0 : intervalMs);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
