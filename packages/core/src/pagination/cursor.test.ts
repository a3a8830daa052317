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
});
