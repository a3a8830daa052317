import { describe, expect, test } from "bun:test";
import { newId } from "../ids.ts";
import { CursorCodec } from "./cursor.ts";

describe("CursorCodec", () => {
  const codec = new CursorCodec("test-secret-of-enough-length");
  const pos = { createdAt: new Date("2026-11-23T10:00:00.123Z"), id: newId() };

  test("round-trips a position within its scope", () => {
    const c = codec.encode(pos, "workflows");
    expect(codec.decode(c, "workflows")).toEqual(pos);
  });

  test("rejects a cursor from another scope", () => {
    expect(codec.decode(codec.encode(pos, "runs::"), "runs:pending:")).toBeNull();
  });

  test("rejects every single-character alteration", () => {
    const c = codec.encode(pos, "workflows");
    for (let i = 0; i < c.length; i++) {
      const swapped = c[i] === "A" ? "B" : "A";
      expect(codec.decode(c.slice(0, i) + swapped + c.slice(i + 1), "workflows")).toBeNull();
    }
  });

  test("rejects garbage, truncation and another secret's cursors", () => {
    const c = codec.encode(pos, "workflows");
    for (const bad of ["", "x", "not a cursor!", c.slice(1), `${c}A`, new CursorCodec("another-secret-value").encode(pos, "workflows")])
      expect(codec.decode(bad, "workflows")).toBeNull();
  });

  describe("sequence cursors", () => {
    test("round-trip a number within their scope, and only there", () => {
      for (const n of [0, 1, 2_147_483_647, Number.MAX_SAFE_INTEGER])
        expect(codec.decodeSequence(codec.encodeSequence(n, "v:a"), "v:a")).toBe(n);
      expect(codec.decodeSequence(codec.encodeSequence(3, "v:a"), "v:b")).toBeNull();
    });

    test("reject every single-character alteration, garbage, and position cursors", () => {
      const c = codec.encodeSequence(7, "v:a");
      for (let i = 0; i < c.length; i++) {
        const swapped = c[i] === "A" ? "B" : "A";
        expect(codec.decodeSequence(c.slice(0, i) + swapped + c.slice(i + 1), "v:a")).toBeNull();
      }
      for (const bad of [
        "",
        "x",
        c.slice(1),
        `${c}A`,
        codec.encode(pos, "v:a"),
        new CursorCodec("another-secret-value").encodeSequence(7, "v:a"),
      ])
        expect(codec.decodeSequence(bad, "v:a")).toBeNull();
      expect(codec.decode(c, "v:a")).toBeNull();
    });
  });
});
