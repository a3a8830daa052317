import { describe, expect, test } from "bun:test";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The pool's queue inside postgres.js, as patched in patches/postgres@3.4.9.patch. */
interface DriverQueue<T> {
  readonly length: number;
  push(x: T): T;
  shift(): T | undefined;
  remove(x: T): T | null;
}

// The driver does not export its queue: load the file the runtime loads the driver from.
const driverDir = dirname(fileURLToPath(import.meta.resolve("postgres")));
const { default: Queue } = (await import(join(driverDir, "queue.js"))) as { default: <T>(initial?: T[]) => DriverQueue<T> };

/** A deterministic sequence, so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("postgres.js pool queue (patched)", () => {
  test("matches a plain FIFO array through 200,000 random push, shift and remove calls", () => {
    const q = Queue<number>();
    const model: number[] = [];
    const random = prng(7);
    let next = 0;
    for (let op = 0; op < 200_000; op++) {
      const r = random();
      // Biased to push so the queue stays non-empty for long stretches, as a busy pool's does.
      if (r < 0.45) {
        expect(q.push(next)).toBe(next);
        model.push(next++);
      } else if (r < 0.85) {
        expect(q.shift()).toBe(model.shift());
      } else {
        const victim = model.length > 0 && random() < 0.8 ? model[Math.floor(random() * model.length)]! : -1;
        const at = model.indexOf(victim);
        if (at !== -1) model.splice(at, 1);
        expect(q.remove(victim)).toBe(at === -1 ? null : victim);
      }
      expect(q.length).toBe(model.length);
    }
  });

  test("a queue that never empties, like the busy connections of a saturated pool, stays in order", () => {
    // The pool takes the head of the busy queue and pushes it back for every pipelined query.
    const connections = ["a", "b", "c"];
    const busy = Queue<string>(connections);
    const seen: string[] = [];
    for (let query = 0; query < 99_999; query++) seen.push(busy.push(busy.shift()!));
    expect(seen.slice(-3)).toEqual(connections);
    expect(busy.remove("b")).toBe("b");
    expect(busy.remove("b")).toBeNull();
    expect([busy.shift(), busy.shift(), busy.shift()]).toEqual(["a", "c", undefined]);
    expect(busy.length).toBe(0);
  });

  test("shift on an empty queue returns undefined and leaves it empty", () => {
    const q = Queue<number>();
    expect(q.shift()).toBeUndefined();
    expect(q.length).toBe(0);
    q.push(1);
    expect(q.shift()).toBe(1);
  });
});
