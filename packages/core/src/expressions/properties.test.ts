import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { compileExpression, type Expression } from "./index.ts";

function expression(source: string): Expression {
  const c = compileExpression(source);
  if (!c.ok) throw new Error(c.message);
  return c.expression;
}

// Keys a JavaScript object treats specially, mixed with ordinary ones.
const key = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom("constructor", "__proto__", "toString", "hasOwnProperty", "prototype"));
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
    fc.integer(),
    fc.string(),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(key, tie("value"), { maxKeys: 5 }),
  ),
})).value;

describe("properties", () => {
  test("any JSON value passed as input comes back unchanged", () => {
    const identity = expression("input");
    const inList = expression("[input][0]");
    const inMap = expression("{'v': input}.v");
    fc.assert(
      fc.property(json, (value) => {
        expect(identity.evaluate({ input: value })).toEqual(value);
        expect(inList.evaluate({ input: value })).toEqual(value);
        expect(inMap.evaluate({ input: value })).toEqual(value);
      }),
    );
  });

  test("a JSON value equals itself, and a list filter keeps exactly the matching items", () => {
    const same = expression("input == input");
    const positive = expression("input.filter(x, x > 0)");
    fc.assert(
      fc.property(json, fc.array(fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }))), (value, numbers) => {
        expect(same.evaluate({ input: value })).toBe(true);
        expect(positive.evaluate({ input: numbers })).toEqual(numbers.filter((x) => x > 0));
      }),
    );
  });

  test("numbers compare with int and double literals as they do in JavaScript", () => {
    const gt = expression("input.a > 100");
    const eq = expression("input.a == 100");
    const sum = expression("input.a + 1");
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 })), (a) => {
        expect(gt.evaluate({ input: { a } })).toBe(a > 100);
        expect(eq.evaluate({ input: { a } })).toBe(a === 100);
        expect(sum.evaluate({ input: { a } })).toBe(a + 1);
      }),
    );
  });
});
