/**
 * The retry schedule of a delivery, as Svix and the Standard Webhooks guidance space it: with a
 * base of 5 s, retries 5 s, 5 min, 30 min, 2 h, 5 h, 10 h after each failure, then every 10 h,
 * each with ±20 % jitter (receivers that failed together are not hit together again), until the
 * delivery is `maxAgeMs` old: then it has failed. With the defaults a delivery is tried for more
 * than 24 h (its last try about 27 h after the event), so a receiver down for a day loses nothing.
 */
export const RETRY_MULTIPLES = [1, 60, 360, 1440, 3600, 7200] as const;

export interface RetryPolicy {
  baseMs: number;
  maxAgeMs: number;
}

/**
 * After `attempts` failed sends of a delivery now `ageMs` old: the delay to the next, or null when
 * the delivery has failed for good. `random` in [0, 1) (injected by tests).
 */
export function nextRetryMs(attempts: number, ageMs: number, policy: RetryPolicy, random: number = Math.random()): number | null {
  if (ageMs >= policy.maxAgeMs) return null;
  const multiple = RETRY_MULTIPLES[Math.min(attempts, RETRY_MULTIPLES.length) - 1] ?? RETRY_MULTIPLES[0];
  return Math.round(policy.baseMs * multiple * (0.8 + 0.4 * random));
}
