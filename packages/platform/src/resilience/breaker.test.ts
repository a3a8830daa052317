import { describe, expect, test } from "bun:test";
import { Breaker, CallTimedOut, CircuitOpen } from "./breaker.ts";

class Outage extends Error {}
const down = () => Promise.reject(new Outage("down"));
const up = () => Promise.resolve("ok");
const make = (timeoutMs = 0) => new Breaker("postgres", { failures: 3, openMs: 80, timeoutMs }, (e) => e instanceof Outage);

describe("Breaker", () => {
  test("opens after the configured outages in a row and then fails fast without calling", async () => {
    const b = make();
    for (let i = 0; i < 3; i++) await expect(b.run(down)).rejects.toBeInstanceOf(Outage);
    expect(b.state).toBe("open");
    let called = false;
    const err = await b
      .run(async () => {
        called = true;
        return "x";
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CircuitOpen);
    expect((err as CircuitOpen).retryAfterMs).toBeGreaterThan(0);
    expect(called).toBe(false);
    expect(b.stats).toEqual({ rejected: 1, opened: 1 });
  });

  test("errors that are not outages never open it", async () => {
    const b = make();
    for (let i = 0; i < 10; i++) await expect(b.run(() => Promise.reject(new TypeError("caller bug")))).rejects.toBeInstanceOf(TypeError);
    expect(b.state).toBe("closed");
  });

  test("a success in between resets the count", async () => {
    const b = make();
    await b.run(down).catch(() => {});
    await b.run(down).catch(() => {});
    await b.run(up);
    await b.run(down).catch(() => {});
    expect(b.state).toBe("closed");
  });

  test("after openMs one probe is let through: success closes, failure reopens", async () => {
    const b = make();
    for (let i = 0; i < 3; i++) await b.run(down).catch(() => {});
    await Bun.sleep(100);
    await expect(b.run(down)).rejects.toBeInstanceOf(Outage);
    expect(b.state).toBe("open");
    await Bun.sleep(100);
    expect(await b.run(up)).toBe("ok");
    expect(b.state).toBe("closed");
    expect(b.retryAfterMs).toBe(0);
  });

  test("a call slower than the timeout fails as CallTimedOut and counts as an outage", async () => {
    const b = make(20);
    for (let i = 0; i < 3; i++) await expect(b.run(() => Bun.sleep(200).then(() => "late"))).rejects.toBeInstanceOf(CallTimedOut);
    expect(b.state).toBe("open");
  });
});
