import { describe, expect, test } from "bun:test";
import { DomainError } from "@wf/core/errors";
import { Breaker } from "./breaker.ts";
import { guarded } from "./guard.ts";

class Outage extends Error {}

class Store {
  calls = 0;
  failing = false;
  async get(id: string): Promise<string> {
    this.calls++;
    if (this.failing) throw new Outage("connection refused");
    if (id === "bad") throw new RangeError("not an outage");
    return `row ${id}`;
  }
}

describe("guarded", () => {
  const setup = () => {
    const store = new Store();
    const breaker = new Breaker("postgres", { failures: 2, openMs: 10_000 }, (e) => e instanceof Outage);
    return { store, breaker, g: guarded(store, breaker, (e) => e instanceof Outage) };
  };

  test("passes answers and the store's own errors through", async () => {
    const { g } = setup();
    expect(await g.get("1")).toBe("row 1");
    await expect(g.get("bad")).rejects.toBeInstanceOf(RangeError);
  });

  test("outages become 'unavailable' with a retry delay; an open circuit stops calling the store", async () => {
    const { g, store, breaker } = setup();
    store.failing = true;
    for (let i = 0; i < 2; i++) {
      const err = (await g.get("1").catch((e: unknown) => e)) as DomainError;
      expect(err).toBeInstanceOf(DomainError);
      expect(err.kind).toBe("unavailable");
      expect(err.dependency).toBe("postgres");
    }
    expect(breaker.state).toBe("open");
    const before = store.calls;
    const err = (await g.get("1").catch((e: unknown) => e)) as DomainError;
    expect(err.kind).toBe("unavailable");
    expect(err.retryAfterS).toBe(10);
    expect(store.calls).toBe(before);
  });
});
