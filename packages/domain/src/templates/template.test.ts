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
    expect(render("order {{input.order_id}} is {{steps.fetch.status}}; tags {{input.tags}}", scope)).toBe(
      'order 42 is 200; tags ["a"]',
    );
    expect(render("x{{input.nope}}y", scope)).toBe("xy");
  });

  test("renders nested JSON", () => {
    expect(renderDeep({ a: ["{{input.order_id}}", { b: "id-{{input.order_id}}" }], n: 1 }, scope)).toEqual({
      a: [42, { b: "id-42" }],
      n: 1,
    });
  });
});
