import { describe, expect, test } from "bun:test";
import { sharedJson } from "./shared-json.ts";

describe("sharedJson", () => {
  test("one value is serialized once, however many answers carry it", () => {
    let serialized = 0;
    const page = {
      items: [{ id: 1 }],
      next_cursor: null,
      toJSON: () => {
        serialized++;
        return { items: [{ id: 1 }], next_cursor: null };
      },
    };
    const texts = Array.from({ length: 5 }, () => sharedJson(page));
    expect(serialized).toBe(1);
    expect(new Set(texts)).toEqual(new Set(['{"items":[{"id":1}],"next_cursor":null}']));
  });

  test("each value has its own text (a later page is a new object)", () => {
    const a = { items: [1], next_cursor: null };
    const b = { items: [2], next_cursor: null };
    expect(sharedJson(a)).toBe('{"items":[1],"next_cursor":null}');
    expect(sharedJson(b)).toBe('{"items":[2],"next_cursor":null}');
  });
});
