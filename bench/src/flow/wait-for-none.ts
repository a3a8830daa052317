/**
 * Asks `count` every `everyMs` (a second by default) until it answers 0 or `deadlineS` has passed,
 * telling `waiting` each count it is still waiting on; returns the last count (0 when everything
 * settled in time).
 */
export async function waitForNone(
  count: () => Promise<number>,
  deadlineS: number,
  waiting?: (n: number) => void,
  everyMs = 1000,
): Promise<number> {
  const deadline = Date.now() + deadlineS * 1000;
  for (;;) {
    const n = await count();
    if (n === 0 || Date.now() > deadline) return n;
    waiting?.(n);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
