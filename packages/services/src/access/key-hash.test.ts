import { describe, expect, test } from "bun:test";
import { constantTimeEqual, hashKey, KEY_PREFIX, newKey } from "./key-hash.ts";

describe("API key hashing", () => {
  test("new keys are prefixed, random and 256-bit", () => {
    const a = newKey();
    const b = newKey();
    expect(a.startsWith(KEY_PREFIX)).toBe(true);
    expect(a).not.toBe(b);
    expect(Buffer.from(a.slice(KEY_PREFIX.length), "base64url").byteLength).toBe(32);
    expect(hashKey(a).byteLength).toBe(32);
    expect(hashKey(a).equals(hashKey(a))).toBe(true);
  });

  test("constantTimeEqual is equality", () => {
    const x = Buffer.from("abcdef");
    expect(constantTimeEqual(x, Buffer.from("abcdef"))).toBe(true);
    expect(constantTimeEqual(x, Buffer.from("abcdeg"))).toBe(false);
    expect(constantTimeEqual(x, Buffer.from("abcde"))).toBe(false);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });

  test("its time does not depend on how much of the input matches", () => {
    // Long inputs make an early-exit comparison's difference large: with `===` or a byte loop
    // that stops at the first mismatch, the late-mismatch case takes many times longer.
    const n = 64 * 1024;
    const secret = Buffer.alloc(n, 7);
    const early = Buffer.alloc(n, 7);
    early[0] = 8;
    const late = Buffer.alloc(n, 7);
    late[n - 1] = 8;
    const time = (b: Buffer) => {
      const t0 = Bun.nanoseconds();
      for (let i = 0; i < 20; i++) constantTimeEqual(secret, b);
      return Bun.nanoseconds() - t0;
    };
    const earlyT: number[] = [];
    const lateT: number[] = [];
    for (let i = 0; i < 300; i++) {
      // interleaved, so machine noise hits both alike
      earlyT.push(time(early));
      lateT.push(time(late));
    }
    const median = (xs: number[]) => xs.sort((p, q) => p - q)[xs.length >> 1]!;
    const ratio = median(lateT) / median(earlyT);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });
});
