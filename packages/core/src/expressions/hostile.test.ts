import { describe, expect, test } from "bun:test";
import { compileExpression, ExpressionError, MAX_EVALUATION_COST, MAX_EXPRESSION_LENGTH } from "./index.ts";

// Hostile definitions and inputs must end in an error, quickly, never hang or crash the process.
const QUICK_MS = 2000;

function timed<T>(f: () => T): T {
  const start = performance.now();
  const result = f();
  expect(performance.now() - start).toBeLessThan(QUICK_MS);
  return result;
}

function refused(source: string): string {
  const c = timed(() => compileExpression(source));
  if (c.ok) throw new Error(`expected a compile error for ${source.slice(0, 60)}...`);
  expect(c.message).not.toContain("\n");
  return c.message;
}

function evaluationError(source: string, variables: Record<string, unknown>): string {
  const c = compileExpression(source);
  if (!c.ok) throw new Error(`expected ${source.slice(0, 60)} to compile: ${c.message}`);
  try {
    timed(() => c.expression.evaluate(variables));
  } catch (e) {
    expect(e).toBeInstanceOf(ExpressionError);
    return (e as Error).message;
  }
  throw new Error(`expected ${source.slice(0, 60)} to fail`);
}

const COST = `evaluation exceeds its cost limit (${MAX_EVALUATION_COST} units): it iterates, compares or builds too much`;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("deep nesting and long sources fail to compile", () => {
  test("a source of a megabyte is refused before it is parsed", () => {
    const source = `input.a == '${"x".repeat(1 << 20)}'`;
    expect(refused(source)).toBe(`expression is ${source.length} characters long, more than the ${MAX_EXPRESSION_LENGTH} allowed`);
    expect(refused("(".repeat(1 << 20))).toStartWith("expression is");
  });

  test("nesting deeper than the parser's limit, at the full length", () => {
    const half = (MAX_EXPRESSION_LENGTH - 1) / 2;
    expect(refused(`${"(".repeat(half)}1${")".repeat(half)}`)).toContain("Exceeded maxDepth");
    expect(refused(`${"[".repeat(half)}1${"]".repeat(half)}`)).toContain("Exceeded maxDepth");
    expect(refused(`${"{'a':".repeat(300)}1${"}".repeat(300)}`)).toContain("Exceeded maxDepth");
    expect(refused(`input${".a".repeat(900)}`)).toContain("Exceeded maxDepth");
    expect(refused(`input${"[0]".repeat(600)}`)).toContain("Exceeded maxDepth");
    expect(refused(`${"size(".repeat(300)}input${")".repeat(300)}`)).toContain("Exceeded maxDepth");
    expect(refused(`'a'${".trim()".repeat(250)}`)).toContain("Exceeded maxDepth");
    expect(refused(`${"true ? (".repeat(100)}1${") : 0".repeat(100)}`)).toContain("Exceeded maxDepth");
    expect(refused(`${"input.l.map(x, ".repeat(100)}x${")".repeat(100)}`)).toContain("Exceeded maxDepth");
  });

  test("long flat chains are either refused or evaluated, never a crash", () => {
    for (const source of [
      `${"!".repeat(MAX_EXPRESSION_LENGTH - 4)}true`,
      `${"-".repeat(MAX_EXPRESSION_LENGTH - 1)}1`,
      Array(1000).fill("1").join("+"),
      Array(400).fill("true").join(" && "),
      Array(1000).fill("1").join("<"),
    ]) {
      const c = timed(() => compileExpression(source));
      if (c.ok) timed(() => c.expression.evaluate({}));
      else expect(c.message).not.toContain("\n");
    }
  });

  test("list and map literals are bounded by the length", () => {
    const list = `[${Array(999).fill("1").join(",")}]`;
    expect(list.length).toBeLessThanOrEqual(MAX_EXPRESSION_LENGTH);
    const c = compileExpression(list);
    expect(c.ok && (c.expression.evaluate({}) as unknown[]).length).toBe(999);
    expect(refused(`[${Array(1001).fill("1").join(",")}]`)).toStartWith("expression is");
    expect(
      refused(
        `{${range(400)
          .map((i) => `${i}:1`)
          .join(",")}}`,
      ),
    ).toStartWith("expression is");
  });
});

describe("evaluations that would cost too much fail with an error", () => {
  test("nested macros over small literal lists", () => {
    const ten = `[${range(10).join(",")}]`;
    const nested = `${range(8)
      .map((i) => `${ten}.map(v${i}, `)
      .join("")}0${")".repeat(8)}`;
    expect(evaluationError(nested, {})).toBe(COST);
    expect(evaluationError(`${ten}.all(a, ${ten}.all(b, ${ten}.all(c, ${ten}.all(d, ${ten}.all(e, ${ten}.all(f, true))))))`, {})).toBe(
      COST,
    );
    expect(
      evaluationError(
        `${ten}.exists(a, ${ten}.exists(b, ${ten}.exists(c, ${ten}.exists(d, ${ten}.exists(e, ${ten}.exists(f, false))))))`,
        {},
      ),
    ).toBe(COST);
  });

  test("quadratic work over the input", () => {
    const input = {
      big: range(5000),
      s: "x".repeat(100_000),
      obj: { items: range(5000) },
      map: Object.fromEntries(range(5000).map((i) => [`k${i}`, i])),
    };
    expect(evaluationError("input.big.map(a, input.big.map(b, a + b))", { input })).toBe(COST);
    expect(evaluationError("input.big.filter(x, x in input.big)", { input })).toBe(COST);
    expect(evaluationError("input.big.filter(x, input.obj == input.obj)", { input })).toBe(COST);
    expect(evaluationError("input.big.map(x, input.big + input.big)", { input })).toBe(COST);
    expect(evaluationError("input.big.map(x, input.s + 'y')", { input })).toBe(COST);
    expect(evaluationError("input.big.filter(x, input.s.contains('y'))", { input })).toBe(COST);
    expect(evaluationError("input.big.filter(x, input.map.exists(k, false))", { input })).toBe(COST);
  });

  test("doubling a value at each level of cel.bind", () => {
    const binds = range(12)
      .map((i) => `cel.bind(v${i + 1}, v${i} + v${i}, `)
      .join("");
    expect(evaluationError(`cel.bind(v0, input.s, ${binds}size(v12)${")".repeat(13)}`, { input: { s: "x".repeat(100_000) } })).toBe(COST);
    expect(evaluationError(`cel.bind(v0, input.l, ${binds}size(v12)${")".repeat(13)}`, { input: { l: range(10_000) } })).toBe(COST);
  });

  test("the same work within the limit succeeds", () => {
    const input = { big: range(5000), small: range(50) };
    const c = compileExpression("input.small.map(a, input.small.map(b, a + b))");
    expect(c.ok && (c.expression.evaluate({ input }) as unknown[]).length).toBe(50);
    const f = compileExpression("input.big.filter(x, x > 2500).size() == 2499");
    expect(f.ok && f.expression.evaluate({ input })).toBe(true);
  });

  test("every evaluation starts with the full budget", () => {
    const c = compileExpression("input.l.map(a, input.l.map(b, 0)).size()");
    if (!c.ok) throw new Error(c.message);
    expect(() => c.expression.evaluate({ input: { l: range(2000) } })).toThrow(COST);
    for (let i = 0; i < 3; i++) expect(c.expression.evaluate({ input: { l: range(100) } })).toBe(100);
  });

  test("deeply nested input: usable a hundred levels deep, refused thousands deep", () => {
    const nested = (depth: number) => {
      let v: unknown = 1;
      for (let i = 0; i < depth; i++) v = { a: [v] };
      return v;
    };
    for (const source of ["has(input.a) && size(input.a[0].a) == 1", "input == input", "input.a[0] != null"]) {
      const c = compileExpression(source);
      expect(c.ok && timed(() => c.expression.evaluate({ input: nested(100) }))).toBe(true);
    }
    // The library types a value again at every level it dispatches on: seconds at 2,000 levels.
    for (const source of ["has(input.a) && size(input.a[0].a) == 1", "input == input", "input"])
      expect(evaluationError(source, { input: nested(5000) })).toBe(COST);
  });
});
