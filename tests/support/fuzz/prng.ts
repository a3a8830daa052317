/**
 * A small seeded PRNG (sfc32, seeded through splitmix32), so a fuzz run is reproducible from its
 * seed. Each request gets a generator of its own, derived from (seed, index): request #i is the
 * same whatever order the concurrent requests finish in.
 */
import { int } from "@wf/platform/config";

export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export function createRng(seed: number, stream = 0): Rng {
  const mix = splitmix32(seed ^ Math.imul(stream + 1, 0x27d4eb2d));
  let a = mix(),
    b = mix(),
    c = mix(),
    d = mix();
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    chance: (p) => next() < p,
  };
}

/** FUZZ_SEED when given (decimal), else a fresh one; always printed by the caller. */
export const fuzzSeed = (): number => {
  const given = process.env.FUZZ_SEED;
  if (given !== undefined && given !== "") {
    const n = Number(given);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`FUZZ_SEED must be an integer from 0 to ${0xffffffff}`);
    return n;
  }
  return Math.floor(Math.random() * 0xffffffff);
};

/** FUZZ_REQUESTS when given, else 10,000; "10k" or "" would have made a fuzz run of no requests that passes. */
export const fuzzRequests = (): number => {
  const given = process.env.FUZZ_REQUESTS ?? "10000";
  const r = int(1, 10_000_000)(given);
  if (!r.ok) throw new Error(`FUZZ_REQUESTS must be ${r.expected}, got ${JSON.stringify(given)}`);
  return r.value;
};
