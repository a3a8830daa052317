import { describe, expect, test } from "bun:test";
import { unavailable } from "@wf/core/errors";
import { StatementBatcher } from "./statement-batcher.ts";

/** A write that records its batches; "dup" gets no row, `fail` decides per batch. */
function recorder(fail: (items: readonly string[]) => unknown = () => undefined) {
  const batches: string[][] = [];
  const write = async (items: readonly string[]) => {
    batches.push([...items]);
    const err = fail(items);
    if (err) throw err;
    return items.map((id) => (id === "dup" ? undefined : `row ${id}`));
  };
  return { batches, write };
}

describe("StatementBatcher", () => {
  test("writes of one turn share one statement; each gets its own result, in order", async () => {
    const r = recorder();
    const b = new StatementBatcher(r.write);
    const got = await Promise.all(["a", "dup", "c"].map((id) => b.submit(id)));
    expect(r.batches).toEqual([["a", "dup", "c"]]);
    expect(got).toEqual(["row a", undefined, "row c"]);
  });

  test("writes of later turns go in later statements", async () => {
    const r = recorder();
    const b = new StatementBatcher(r.write);
    await b.submit("a");
    await Promise.all([b.submit("b"), b.submit("c")]);
    expect(r.batches).toEqual([["a"], ["b", "c"]]);
  });

  test("a batch is cut at maxBatch", async () => {
    const r = recorder();
    const b = new StatementBatcher(r.write, 2);
    await Promise.all(["a", "b", "c"].map((id) => b.submit(id)));
    expect(r.batches).toEqual([["a", "b"], ["c"]]);
  });

  test("a failed batch is retried item by item, so only the bad item fails", async () => {
    const r = recorder((items) => (items.includes("bad") ? new Error("22P02") : undefined));
    const b = new StatementBatcher(r.write);
    const got = await Promise.allSettled(["a", "bad", "c"].map((id) => b.submit(id)));
    expect(got.map((g) => g.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(r.batches).toEqual([["a", "bad", "c"], ["a"], ["bad"], ["c"]]);
  });

  test("an outage fails the whole batch at once, without retries", async () => {
    const r = recorder(() => unavailable("postgres", "down"));
    const b = new StatementBatcher(r.write);
    const got = await Promise.allSettled(["a", "b"].map((id) => b.submit(id)));
    expect(got.map((g) => g.status)).toEqual(["rejected", "rejected"]);
    expect(r.batches).toEqual([["a", "b"]]);
  });

  test("so does the driver's own outage error, from a store without a guard", async () => {
    const r = recorder(() => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6432"), { code: "ECONNREFUSED" }));
    const b = new StatementBatcher(r.write);
    const got = await Promise.allSettled(["a", "b"].map((id) => b.submit(id)));
    expect(got.map((g) => g.status)).toEqual(["rejected", "rejected"]);
    expect(r.batches).toEqual([["a", "b"]]);
  });
});
