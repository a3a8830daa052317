/**
 * Delay before attempt `attempt + 1` (attempt counts from 1): exponential in the step's
 * `backoff_ms`, with full jitter in [50%, 150%) so retries of many runs do not beat in step,
 * capped at `maxMs`.
 */
export function backoffMs(baseMs: number, attempt: number, random: () => number = Math.random, maxMs = 60_000): number {
  const exp = baseMs * 2 ** Math.max(0, attempt - 1);
  return Math.min(maxMs, Math.round(exp * (0.5 + random())));
}
