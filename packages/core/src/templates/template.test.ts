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
    }
    expect(references("{{  input.a  }}")).toEqual([{ root: "input", path: ["a"], raw: "{{  input.a  }}" }]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test("renders nested JSON", () => {
    expect(renderDeep({ a: ["{{input.order_id}}", { b: "id-{{input.order_id}}" }], n: 1 }, scope)).toEqual({
      a: [42, { b: "id-42" }],
      n: 1,
    });
  });
});
