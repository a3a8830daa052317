import { describe, expect, test } from "bun:test";
import type { Sql } from "./client.ts";
import { ReadReplica, readRouted } from "./read-replica.ts";

// The routing rules alone, on two in-memory stores (the replica lags by what was written to the
// primary only); tests/integration/read-replica.test.ts runs them against a real streaming replica.
class Store {
  constructor(
    readonly rows: Map<string, string>,
    readonly name: string,
  ) {}
  async get(id: string): Promise<string | undefined> {
    return this.rows.get(id);
  }
  async list(): Promise<string[]> {
    return [...this.rows.keys()];
  }
  async replace(id: string, v: string): Promise<void> {
    this.rows.set(id, v);
  }
  async slow(): Promise<string> {
    await Bun.sleep(200);
    return this.name;
  }
  async broken(): Promise<string> {
    throw Object.assign(new Error("connection refused"), { code: "ECONNREFUSED" });
  }
}

const setup = (opts: { maxLagMs?: number; lag?: number } = {}) => {
  const primary = new Store(new Map([["a", "a1"]]), "primary");
  const onReplica = new Store(new Map([["a", "a1"]]), "replica");
  const replica = new ReadReplica({} as Sql, { maxLagMs: opts.maxLagMs ?? 1000, timeoutMs: 50, probeMs: 1000 });
  replica.reachable = true;
  replica.lagSeconds = opts.lag ?? 0;
  const store = readRouted(primary, onReplica, replica, { byId: ["get", "slow", "broken"], lists: ["list"], writes: ["replace"] });
  return { primary, onReplica, replica, store };
};

describe("readRouted", () => {
  test("lists and found rows come from the replica; a row it lacks from the primary", async () => {
    const { primary, replica, store } = setup();
    primary.rows.set("b", "b1");
    expect(await store.list()).toEqual(["a"]);
    expect(await store.get("a")).toBe("a1");
    expect(await store.get("b")).toBe("b1");
    expect(replica.counts).toMatchObject({ replica: 2, primary_missing: 1 });
  });

  test("an entity this process wrote is read from the primary for maxLagMs, then from the replica again", async () => {
    const { replica, store } = setup({ maxLagMs: 100 });
    await store.replace("a", "a2");
    expect(await store.get("a")).toBe("a2");
    expect(replica.counts.primary_recent_write).toBe(1);
    await Bun.sleep(120);
    expect(await store.get("a")).toBe("a1"); // the in-memory replica never replays: stale on purpose
    await store.replace(["a", "b"] as never, "x"); // a batch names its ids in an array
    expect(await store.get("b")).toBe(undefined);
    expect(replica.counts.primary_recent_write).toBe(2);
  });

  test("too far behind or unreachable: the primary", async () => {
    const { replica, store } = setup({ maxLagMs: 1000, lag: 2 });
    expect(await store.list()).toEqual(["a"]);
    replica.lagSeconds = 0.5;
    replica.reachable = false;
    await store.get("a");
    expect(replica.counts).toMatchObject({ replica: 0, primary_replica_unavailable: 2 });
  });

  test("a replica that fails or is slower than the timeout: the primary answers, and the replica is set aside", async () => {
    const { replica, store } = setup();
    await expect(store.broken()).rejects.toThrow("connection refused"); // the primary's own error is the answer
    expect(replica.usable).toBe(false);
    replica.reachable = true;
    replica.lagSeconds = 0;
    expect(await store.slow()).toBe("primary");
    expect(replica.usable).toBe(false);
    expect(replica.counts.primary_error).toBe(2);
  });

  test("unrouted methods are the primary's", async () => {
    const { primary, store } = setup();
    expect(Object.getPrototypeOf(store)).toBe(primary);
  });
});
