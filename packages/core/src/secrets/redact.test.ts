import { describe, expect, test } from "bun:test";
import { references, render } from "../templates/template.ts";
import { REDACTED, redactor } from "./redact.ts";

describe("redactor", () => {
  const value = 'a b/?&=+"\\é';
  const r = redactor([value, "", "short"]);

  test("replaces the value as is, percent-encoded (URL, query, form) and JSON-escaped", () => {
    for (const spelled of [
      value,
      encodeURIComponent(value),
      encodeURI(value),
      new URLSearchParams({ v: value }).toString().slice(2),
      new URL(`http://h/?${value}`).search.slice(1),
      JSON.stringify(value).slice(1, -1),
    ])
      expect(r.text(`<${spelled}>`)).toBe(`<${REDACTED}>`);
  });

  test("a host name's spellings too: lower-cased, punycode", () => {
    const host = redactor(["Internal-Ünicode.Example"]);
    expect(host.text("cannot resolve xn--internal-nicode-7vb.example: ENOTFOUND")).toBe(`cannot resolve ${REDACTED}: ENOTFOUND`);
    expect(host.text("internal-ünicode.example")).toBe(REDACTED);
  });

  test("walks values and keys deeply, leaves other types alone, and ignores empty values", () => {
    expect(r.value<unknown>({ [`k-${value}`]: [`x short y`, 1, null, true, { n: value }] })).toEqual({
      [`k-${REDACTED}`]: [`x ${REDACTED} y`, 1, null, true, { n: REDACTED }],
    });
    expect(redactor([]).value({ a: "a" })).toEqual({ a: "a" });
    expect(redactor([""]).text("abc")).toBe("abc");
  });

  test("one pass, longest first: a value inside another, or inside [redacted], is not half replaced", () => {
    expect(redactor(["ab", "abcd"]).text("xabcdx ab")).toBe(`x${REDACTED}x ${REDACTED}`);
    expect(redactor(["red", "d"]).text("red d")).toBe(`${REDACTED} ${REDACTED}`);
  });
});

describe("{{secrets.NAME}} placeholders", () => {
  test("read one name of ^[A-Z][A-Z0-9_]{0,63}$; anything else under secrets is an error that says so", () => {
    expect(references("{{secrets.API_TOKEN}} {{ secrets.A1 }}")).toEqual([
      { root: "secrets", path: ["API_TOKEN"], raw: "{{secrets.API_TOKEN}}" },
      { root: "secrets", path: ["A1"], raw: "{{ secrets.A1 }}" },
    ]);
    for (const bad of ["{{secrets}}", "{{secrets.lower}}", "{{secrets.A.B}}", `{{secrets.A${"B".repeat(64)}}}`, "{{secrets._X}}"])
      expect(references(bad)[0]).toHaveProperty(
        "error",
        `placeholder ${bad} must read secrets.<NAME>, NAME matching ^[A-Z][A-Z0-9_]{0,63}$`,
      );
  });

  test("render from the scope's secrets only; without them, nothing", () => {
    const scope = { input: { secrets: { X: "from input" } }, steps: {} };
    expect(render("Bearer {{secrets.X}}", { ...scope, secrets: { X: "v" } })).toBe("Bearer v");
    expect(render("Bearer {{secrets.X}}", scope)).toBe("Bearer ");
    expect(render("{{secrets.X}}", scope)).toBeNull();
  });
});
