/** A task run again and again, `intervalMs` apart, never two passes at once; see `startPeriodic`. */
export interface Periodic {
  stop(): void;
}

/**
 * Runs `pass` every `intervalMs` (the first after one interval), the next only once the last is
 * over, so a slow pass never overlaps the next. A pass that resolves true runs again at once (it
 * left work behind). A failed pass is reported to `onError` and the loop goes on.
 */
export function startPeriodic(pass: () => Promise<boolean | unknown>, intervalMs: number, onError: (err: unknown) => void): Periodic {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const loop = async () => {
    if (stopped) return;
    let again = false;
    try {
      again = (await pass()) === true;
    } catch (err) {
      onError(err);
    }
    if (!stopped) timer = setTimeout(loop, again ? 0 : intervalMs);
  };
  timer = setTimeout(loop, intervalMs);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
