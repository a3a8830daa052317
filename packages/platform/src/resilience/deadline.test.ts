import { describe, expect, test } from "bun:test";
import { Deadline } from "./deadline.ts";

class Late extends Error {}

const hang = () => new Promise<never>(() => {});
/** When `p` settled, in ms after `t0`, and how. */
const settle = (p: Promise<unknown>, t0: number) =>
  p.then(
    (value) => ({ ok: true as const, value, at: performance.now() - t0 }),
    (error: unknown) => ({ ok: false as const, error, at: performance.now() - t0 }),
  );

describe("Deadline", () => {
  test("passes a call's value and error through and forgets the call", async () => {
    const d = new Deadline(1000, () => new Late());
    expect(await d.within(Promise.resolve(7))).toBe(7);
    const boom = new Error("boom");
    await expect(d.within(Promise.reject(boom))).rejects.toBe(boom);
    expect(d.size).toBe(0);
  });

  test("a call that outlives the bound is rejected with the given error, not before the bound", async () => {
    const d = new Deadline(50, () => new Late());
    const t0 = performance.now();
    const r = await settle(d.within(hang()), t0);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toBeInstanceOf(Late);
    expect(r.at).toBeGreaterThanOrEqual(49);
    expect(d.size).toBe(0);
  });

  test("each call falls due at its own start plus the bound; finished ones are not expired", async () => {
    const d = new Deadline(60, () => new Late());
    const t0 = performance.now();
    const first = settle(d.within(hang()), t0);
    const quick = settle(d.within(Bun.sleep(10).then(() => "quick")), t0);
    await Bun.sleep(30);
    const second = settle(d.within(hang()), t0);
    const [a, q, b] = await Promise.all([first, quick, second]);
    expect(q).toMatchObject({ ok: true, value: "quick" });
    expect(a.ok || b.ok).toBe(false);
    expect(a.at).toBeGreaterThanOrEqual(59);
    // the one timer re-arms for the later call instead of expiring it with the first
    expect(b.at).toBeGreaterThanOrEqual(89);
    expect(b.at - a.at).toBeGreaterThanOrEqual(25);
  });

  test("when the oldest call finishes early, a later hanging one still expires", async () => {
    const d = new Deadline(40, () => new Late());
    const t0 = performance.now();
    expect(await d.within(Promise.resolve("done"))).toBe("done");
    await Bun.sleep(15);
    const r = await settle(d.within(hang()), t0);
    expect(r.ok).toBe(false);
    expect(r.at).toBeGreaterThanOrEqual(54);
    expect(d.size).toBe(0);
  });
});
