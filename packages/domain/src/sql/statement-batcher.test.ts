import { describe, expect, test } from "bun:test";
import { unavailable } from "../errors.ts";
import type { InsertedRun, NewRun } from "./store.ts";
import { TriggerBatcher } from "./trigger-batcher.ts";

const run = (id: string): NewRun => ({ id, workflowId: "w", input: {}, idempotencyKey: null, now: new Date() });
const stored = (r: NewRun) => ({ row: { id: r.id }, outboxId: "1", message: "{}" }) as unknown as InsertedRun;

/** A store that records its batches; `fail` decides per batch. */
function recorder(fail: (ids: string[]) => unknown = () => undefined) {
  const batches: string[][] = [];
  return {
    batches,
    async insertPending(runs: readonly NewRun[]) {
      const ids = runs.map((r) => r.id);
      batches.push(ids);
      const err = fail(ids);
      if (err) throw err;
      return new Map(runs.filter((r) => r.id !== "dup").map((r) => [r.id, stored(r)]));
    },
  };
}

describe("TriggerBatcher", () => {
  test("triggers of one turn share one statement; each gets its own row or undefined", async () => {
    const store = recorder();
    const b = new TriggerBatcher(store, "t");
    const got = await Promise.all(["a", "dup", "c"].map((id) => b.insert(run(id))));
    expect(store.batches).toEqual([["a", "dup", "c"]]);
    expect(got.map((g) => g?.row.id)).toEqual(["a", undefined, "c"]);
  });

  test("a batch is cut at maxBatch", async () => {
    const store = recorder();
    const b = new TriggerBatcher(store, "t", 2);
    await Promise.all(["a", "b", "c"].map((id) => b.insert(run(id))));
    expect(store.batches).toEqual([["a", "b"], ["c"]]);
  });

  test("a failed batch is retried run by run, so only the bad run fails", async () => {
    const store = recorder((ids) => (ids.includes("bad") ? new Error("22P02") : undefined));
    const b = new TriggerBatcher(store, "t");
    const got = await Promise.allSettled(["a", "bad", "c"].map((id) => b.insert(run(id))));
    expect(got.map((g) => g.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(store.batches).toEqual([["a", "bad", "c"], ["a"], ["bad"], ["c"]]);
  });

  test("an outage fails the whole batch at once, without retries", async () => {
    const store = recorder(() => unavailable("postgres", "down"));
    const b = new TriggerBatcher(store, "t");
    const got = await Promise.allSettled(["a", "b"].map((id) => b.insert(run(id))));
    expect(got.map((g) => g.status)).toEqual(["rejected", "rejected"]);
    expect(store.batches).toEqual([["a", "b"]]);
  });
});
