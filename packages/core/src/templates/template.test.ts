import { describe, expect, test } from "bun:test";
import { references, render, renderDeep } from "./template.ts";

const scope = { input: { order_id: 42, tags: ["a"] }, steps: { fetch: { status: 200, body: { ok: true } } } };

describe("templates", () => {
  test("finds references and flags unreadable ones", () => {
    const refs = references("{{input.order_id}} {{ steps.fetch.status }} {{env.SECRET}}");
    expect(refs[0]).toEqual({ root: "input", path: ["order_id"], raw: "{{input.order_id}}" });
    expect(refs[1]).toMatchObject({ root: "steps", path: ["fetch", "status"] });
    expect(refs[2]).toHaveProperty("error");
  });

  test("a whole-string placeholder keeps the value's type", () => {
    expect(render("{{steps.fetch.body}}", scope)).toEqual({ ok: true });
    expect(render("{{input.order_id}}", scope)).toBe(42);
    expect(render("{{input.missing}}", scope)).toBeNull();
  });

  test("interpolation inside text", () => {
    expect(render("order {{input.order_id}} is {{steps.fetch.status}}; tags {{input.tags}}", scope)).toBe('order 42 is 200; tags ["a"]');
    expect(render("x{{input.nope}}y", scope)).toBe("xy");
  });

  test("reads only the data's own properties, never the prototype chain", () => {
    expect(render("{{input.__proto__}}", scope)).toBeNull();
    expect(render("{{input.constructor}}", scope)).toBeNull();
    expect(render("{{steps.fetch.constructor.name}}", scope)).toBeNull();
    expect(render("x{{input.toString}}y{{steps.__proto__}}", scope)).toBe("xy");
    expect(render("{{input.tags.0}}", scope)).toBe("a");
  });

  test("an unclosed placeholder followed by long whitespace is parsed in linear time", () => {
    const started = performance.now();
    for (const ws of [" ", "\t", "\n"]) {
      expect(references(`{{${ws.repeat(100_000)}`)).toEqual([]);
      expect(references(`{{ input${ws.repeat(100_000)}x`)).toEqual([]);
      expect(references(`{{ item${".a".repeat(50_000)}${ws.repeat(50_000)}x`)).toEqual([]);
      expect(references(`{{item${".a".repeat(50_000)}.}}`)).toHaveLength(1);
    }
    expect(references("{{  input.a  }}")).toEqual([{ root: "input", path: ["a"], raw: "{{  input.a  }}" }]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test("item (with or without a path) and index are references; index has no path", () => {
    expect(references("{{item}} {{ item.id.0 }} {{index}}")).toEqual([
      { root: "item", path: [], raw: "{{item}}" },
      { root: "item", path: ["id", "0"], raw: "{{ item.id.0 }}" },
      { root: "index", path: [], raw: "{{index}}" },
    ]);
    for (const bad of ["{{index.x}}", "{{items}}", "{{indexes}}", "{{item..x}}", "{{item.}}", "{{Index}}"])
      expect(references(bad)[0]).toHaveProperty(
        "error",
        `placeholder ${bad} must read input.<path>, steps.<name>.<path>, item.<path> or index`,
      );
  });

  test("item and index render from the scope of one for_each item, with their JSON types", () => {
    const each = { ...scope, item: { id: 7, tags: ["x"] }, index: 0 };
    expect(render("{{item}}", each)).toEqual({ id: 7, tags: ["x"] });
    expect(render("{{item.id}}", each)).toBe(7);
    expect(render("{{index}}", each)).toBe(0);
    expect(render("#{{index}}: {{item.id}} {{item.tags}}", each)).toBe('#0: 7 ["x"]');
    expect(renderDeep({ n: "{{index}}", s: "{{steps.fetch.status}}" }, { ...each, index: 3 })).toEqual({ n: 3, s: 200 });
    // A scalar item, and an item read outside for_each (no item in the scope): null, or "" in text.
    expect(render("{{item}}", { ...scope, item: "a", index: 1 })).toBe("a");
    expect(render("{{item.length}}", { ...scope, item: "abc", index: 1 })).toBeNull();
    expect(render("{{item}}", scope)).toBeNull();
    expect(render("x{{item.id}}{{index}}y", scope)).toBe("xy");
  });

  test("item reads only its own properties, never the prototype chain", () => {
    const each = { ...scope, item: { id: 1 }, index: 0 };
    expect(render("{{item.__proto__}}", each)).toBeNull();
    expect(render("{{item.constructor}}", each)).toBeNull();
    expect(render("{{item.hasOwnProperty}}", each)).toBeNull();
  });

  test("renders nested JSON", () => {
    expect(renderDeep({ a: ["{{input.order_id}}", { b: "id-{{input.order_id}}" }], n: 1 }, scope)).toEqual({
      a: [42, { b: "id-42" }],
      n: 1,
    });
  });
});
