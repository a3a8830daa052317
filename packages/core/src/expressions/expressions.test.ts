import { describe, expect, test } from "bun:test";
import {
  type CompiledExpression,
  clearExpressionCache,
  compileCondition,
  compileExpression,
  compileList,
  EXPRESSION_CACHE_SIZE,
  ExpressionError,
  evaluateCondition,
  evaluateList,
  expressionCacheSize,
  MAX_EXPRESSION_LENGTH,
} from "./index.ts";

const vars = {
  input: { amount: 150, price: 9.5, tags: ["new", "vip"], items: [{ qty: 2 }, { qty: 0 }, { qty: 1 }], empty: null },
  steps: {
    fetch: { output: { status: 200, body: { id: "o-1" } }, status: "completed", error: null },
    notify: { output: null, status: "failed", error: "timeout" },
  },
};

function compiled(source: string): CompiledExpression {
  const c = compileExpression(source);
  if (!c.ok) throw new Error(`expected ${source} to compile: ${c.message}`);
  return c.expression;
}

const run = (source: string, variables: Record<string, unknown> = vars): unknown => compiled(source).evaluate(variables);

function failure(source: string): string {
  const c = compileExpression(source);
  if (c.ok) throw new Error(`expected ${source} not to compile`);
  return c.message;
}

function evalError(source: string, variables: Record<string, unknown> = vars): string {
  try {
    run(source, variables);
  } catch (e) {
    expect(e).toBeInstanceOf(ExpressionError);
    return (e as Error).message;
  }
  throw new Error(`expected ${source} to fail`);
}

describe("compile", () => {
  test("a syntax error is a one-line message with its column", () => {
    expect(failure("input.amount >")).toBe("syntax error at column 15: Unexpected token: EOF");
    expect(failure("input.amount > > 1")).toStartWith("syntax error at column 16:");
    expect(failure('"unterminated')).toStartWith("syntax error");
    expect(failure("a b")).toStartWith("syntax error");
    for (const source of ["input.amount >", "(", "[1,", "{'a' 1}", "1 +* 2"]) expect(failure(source)).not.toContain("\n");
  });

  test("type errors against the declared variables", () => {
    expect(failure("inptu.amount > 100")).toBe("type error at column 1: Unknown variable: inptu");
    expect(failure("1 + 'a'")).toStartWith("type error at column 1: no such overload: int + string");
    expect(failure("index + 'a'")).toStartWith("type error");
    expect(failure("index.foo")).toStartWith("type error");
    expect(failure("nosuchfn(input)")).toStartWith("type error");
    expect(failure("size(1)")).toStartWith("type error");
    expect(failure("!index")).toStartWith("type error");
  });

  test("the four declared variables and the macros compile", () => {
    for (const source of [
      "input.amount > 100",
      "steps.fetch.output.status == 200",
      "steps['fetch'].status == 'completed'",
      "item.qty > 0 && index < 10",
      "has(input.amount) && !has(input.nope)",
      "input.items.all(i, i.qty >= 0) || input.items.exists(i, i.qty == 0)",
      "input.items.exists_one(i, i.qty == 2)",
      "input.items.map(i, i.qty).filter(q, q > 0)",
      "cel.bind(n, size(input.tags), n > 1)",
      "input.amount > 100 ? 'big' : 'small'",
      "'fetch' in steps",
    ])
      expect(compileExpression(source).ok).toBe(true);
  });

  test("empty, blank and over-long sources are refused", () => {
    expect(failure("")).toBe("expression is empty");
    expect(failure("   \n ")).toBe("expression is empty");
    const long = `input.amount > ${"1".repeat(MAX_EXPRESSION_LENGTH)}`;
    expect(failure(long)).toBe(`expression is ${long.length} characters long, more than the ${MAX_EXPRESSION_LENGTH} allowed`);
    const justFits = `input.a == '${"x".repeat(MAX_EXPRESSION_LENGTH - 13)}'`;
    expect(justFits.length).toBe(MAX_EXPRESSION_LENGTH);
    expect(compileExpression(justFits).ok).toBe(true);
  });

  test("matches() is refused: the library would run it on a backtracking RegExp", () => {
    expect(failure("input.name.matches('^(a+)+$')")).toStartWith("matches() is not supported");
    expect(failure("input.items.exists(i, i.name.matches('x'))")).toStartWith("matches() is not supported");
  });

  test("the checked result type is known, and conditions and lists are checked for it", () => {
    expect(compiled("input.amount > 1").type).toBe("bool");
    expect(compiled("input.items").type).toBe("dyn");
    expect(compiled("[1, 2]").type).toBe("list<int>");
    expect(compileCondition("input.amount > 1").ok).toBe(true);
    expect(compileCondition("input.flag").ok).toBe(true);
    expect(compileCondition("1 + 2")).toEqual({ ok: false, message: "must yield a bool, but yields int" });
    expect(compileList("input.items.filter(i, i.qty > 0)").ok).toBe(true);
    expect(compileList("[1, 'a']").ok).toBe(true);
    expect(compileList("'abc'")).toEqual({ ok: false, message: "must yield a list, but yields string" });
    expect(compileList("(")).toMatchObject({ ok: false });
  });

  test("the step names an expression reads", () => {
    expect(compiled("steps.fetch.output.status == 200 && steps['notify'].status == 'failed'").steps).toEqual(["fetch", "notify"]);
    expect(compiled("steps.a.output > 1 || steps.a.status == 'skipped'").steps).toEqual(["a"]);
    expect(compiled("input.steps.x == 1").steps).toEqual([]);
    expect(compiled("input.items.exists(i, steps.b.output == i)").steps).toEqual(["b"]);
  });
});

describe("cache", () => {
  test("the same source returns the same compiled expression, failures included", () => {
    clearExpressionCache();
    const a = compileExpression("input.amount > 100");
    expect(compileExpression("input.amount > 100")).toBe(a);
    const bad = compileExpression("input.amount >");
    expect(compileExpression("input.amount >")).toBe(bad);
    expect(expressionCacheSize()).toBe(2);
  });

  test("it is bounded, and forgets the least recently used source first", () => {
    clearExpressionCache();
    const first = compileExpression("index == 0");
    const second = compileExpression("index == 1");
    for (let i = 2; i < EXPRESSION_CACHE_SIZE; i++) compileExpression(`index == ${i}`);
    expect(expressionCacheSize()).toBe(EXPRESSION_CACHE_SIZE);
    expect(compileExpression("index == 0")).toBe(first); // used again: now the most recent
    compileExpression("index == -1"); // one more: the least recent ("index == 1") goes
    expect(expressionCacheSize()).toBe(EXPRESSION_CACHE_SIZE);
    expect(compileExpression("index == 0")).toBe(first);
    expect(compileExpression("index == 1")).not.toBe(second);
    clearExpressionCache();
  });
});

describe("evaluate", () => {
  test("conditions over input and steps", () => {
    expect(run("steps.fetch.output.status == 200 && input.amount > 100")).toBe(true);
    expect(run('size(input.tags) > 0 && "vip" in input.tags')).toBe(true);
    expect(run("steps.notify.status == 'failed' && steps.notify.error == 'timeout'")).toBe(true);
    expect(run("has(steps.fetch.output.body.id)")).toBe(true);
    expect(run("has(input.nope)")).toBe(false);
    expect(run("'fetch' in steps && !('later' in steps)")).toBe(true);
    expect(run("input.empty == null")).toBe(true);
    expect(run("input.tags.exists(t, t.startsWith('v'))")).toBe(true);
  });

  test("JSON numbers are doubles and compare with int literals, whole or not", () => {
    for (const amount of [150, 150.5, 100.5]) expect(run("input.amount > 100", { input: { amount: amount } })).toBe(true);
    expect(run("input.amount > 100", { input: { amount: 100 } })).toBe(false);
    expect(run("input.amount == 150", { input: { amount: 150 } })).toBe(true);
    expect(run("input.amount == 150.0", { input: { amount: 150 } })).toBe(true);
    expect(run("input.status in [200, 201]", { input: { status: 201 } })).toBe(true);
    expect(run("input.tags[input.i]", { input: { tags: ["a", "b"], i: 1 } })).toBe("b");
  });

  test("mixed int and double arithmetic yields a double", () => {
    expect(run("input.count + 1", { input: { count: 3 } })).toBe(4);
    expect(run("input.price * 2", { input: { price: 9.5 } })).toBe(19);
    expect(run("1 - input.price", { input: { price: 0.25 } })).toBe(0.75);
    expect(run("input.total / 2", { input: { total: 7 } })).toBe(3.5);
    expect(run("index * 1.5", { index: 3 })).toBe(4.5);
    expect(run("7 / 2")).toBe(3); // ints stay ints: integer division
  });

  test("index is an int, item any JSON value", () => {
    expect(run("index == 0", { index: 0 })).toBe(true);
    expect(run("index + 1", { index: 4 })).toBe(5);
    expect(run("input.items[index].qty", { ...vars, index: 2 })).toBe(1);
    expect(run("item.qty > 0 && index < 3", { item: { qty: 2 }, index: 1 })).toBe(true);
    expect(evalError("index == 0", { index: 1.5 })).toBe("index must be an integer, got 1.5");
    expect(evalError("item.qty > 0", { input: {} })).toBe("item is set only in a step with for_each at column 1");
  });

  test("evaluation errors are ExpressionErrors with a clear message", () => {
    expect(evalError("input.nope > 1")).toBe("No such key: nope at column 7");
    expect(evalError("steps.later.output")).toBe("No such key: later at column 7");
    expect(evalError("input.amount > 'a'")).toBe("no such overload: dyn<double> > string at column 1");
    expect(evalError("input.tags[5]")).toStartWith("No such key: index out of bounds");
    expect(evalError("1 / (index - 1)", { index: 1 })).toBe("division by zero at column 1");
    expect(evalError("int(input.tags[0])")).toBe("int() type error: cannot convert to int at column 1");
    expect(evalError("input.amount && true")).toStartWith("Logical operator requires bool operands");
  });

  test("the variables are never modified", () => {
    const input = { items: [{ qty: 1 }], n: 1 };
    const frozen = structuredClone(input);
    run("input.items.map(i, i.qty + input.n)", { input });
    run("input.items + [1]", { input });
    expect(input).toEqual(frozen);
  });

  test("an object with a 'constructor' or '__proto__' key is data like any other", () => {
    const input = JSON.parse('{"constructor": {"name": "x"}, "__proto__": {"polluted": true}, "a": [{"constructor": 1}]}');
    expect(run("input.constructor.name", { input })).toBe("x");
    expect(run("input.a[0].constructor", { input })).toBe(1);
    expect(run("has(input.__proto__.polluted)", { input })).toBe(true);
    expect(run("input", { input })).toEqual(input);
    expect(run("has(input.toString) || has(input.hasOwnProperty)", { input: {} })).toBe(false);
    expect(evalError("input.toString", { input: {} })).toStartWith("No such key: toString");
    const steps = { constructor: { output: 1, status: "completed", error: null } };
    expect(run("steps.constructor.output == 1", { steps })).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("results are plain JSON", () => {
  test("ints become numbers, maps objects", () => {
    expect(run("1 + 2")).toBe(3);
    expect(run("[1, 2.5, 'a', true, null]")).toEqual([1, 2.5, "a", true, null]);
    expect(run("{'a': 1, 'b': [1, {'c': 2}]}")).toEqual({ a: 1, b: [1, { c: 2 }] });
    expect(run("{1: 'one', true: 'yes'}")).toEqual({ 1: "one", true: "yes" });
    expect(run("9007199254740991")).toBe(Number.MAX_SAFE_INTEGER);
    expect(run("-9007199254740991")).toBe(Number.MIN_SAFE_INTEGER);
    expect(run("3u")).toBe(3);
    // The library drops these keys from map literals (its guard against prototype pollution).
    const obj = run("{'__proto__': {'polluted': 1}, 'constructor': 2, 'a': 3}") as Record<string, unknown>;
    expect(Object.getPrototypeOf(obj)).toBe(Object.prototype);
    expect(obj).toEqual({ a: 3 });
    expect(obj.polluted).toBeUndefined();
  });

  test("a result with no undefined anywhere", () => {
    const out = run("input.items.map(i, {'q': i.qty, 'big': i.qty > 1})");
    expect(out).toEqual([
      { q: 2, big: true },
      { q: 0, big: false },
      { q: 1, big: false },
    ]);
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
  });

  test("values read from the variables are returned as they are", () => {
    expect(run("input.items[0]")).toBe(vars.input.items[0]);
    expect(run("steps.fetch")).toBe(vars.steps.fetch);
  });

  test("timestamps, durations and bytes take CEL's JSON form", () => {
    expect(run("timestamp('2024-05-01T10:00:00Z')")).toBe("2024-05-01T10:00:00.000Z");
    expect(run("duration('1.5s')")).toBe("1.5s");
    expect(run("duration('-90s')")).toBe("-90s");
    expect(run("b'abc'")).toBe("YWJj");
  });

  test("what JSON cannot hold is an ExpressionError", () => {
    expect(evalError("9007199254740992")).toBe(
      "the result has no JSON form: the integer 9007199254740992 is beyond what a JSON number holds exactly (±9007199254740991)",
    );
    expect(evalError("[1, 9223372036854775807]")).toStartWith("the result has no JSON form: the integer 9223372036854775807");
    expect(evalError("1.0 / 0.0")).toBe("the result has no JSON form: Infinity is not a JSON number");
    expect(evalError("type(1)")).toBe("the result has no JSON form: a type is not a JSON value");
  });
});

describe("evaluateCondition", () => {
  test("a bool", () => {
    expect(evaluateCondition(compiled("input.amount > 100"), vars)).toBe(true);
    expect(evaluateCondition(compiled("input.amount > 1000"), vars)).toBe(false);
  });

  test("anything else is an ExpressionError naming what it got", () => {
    const expectError = (source: string, message: string) => {
      expect(() => evaluateCondition(compiled(source), vars)).toThrow(new ExpressionError(message));
    };
    expectError("input.amount", "must yield a bool, got a number (150)");
    expectError("input.tags", 'must yield a bool, got a list (["new","vip"])');
    expectError("input.empty", "must yield a bool, got null");
    expectError("steps.fetch", 'must yield a bool, got a map ({"output":{"status":200,"body":{"id":...)');
  });
});

describe("evaluateList", () => {
  test("a list of plain JSON values", () => {
    expect(evaluateList(compiled("input.items.filter(x, x.qty > 0)"), vars, 10)).toEqual([{ qty: 2 }, { qty: 1 }]);
    expect(evaluateList(compiled("[1, 2, 3].map(x, x * 2)"), vars, 3)).toEqual([2, 4, 6]);
    expect(evaluateList(compiled("[]"), vars, 0)).toEqual([]);
  });

  test("a non-list, or a list over the limit, is an ExpressionError", () => {
    expect(() => evaluateList(compiled("input.amount"), vars, 10)).toThrow(new ExpressionError("must yield a list, got a number (150)"));
    expect(() => evaluateList(compiled("{'a': 1}"), vars, 10)).toThrow(new ExpressionError('must yield a list, got a map ({"a":1})'));
    expect(() => evaluateList(compiled("input.items"), vars, 2)).toThrow(new ExpressionError("yields 3 items, more than the 2 allowed"));
  });
});

describe("conversion of deep results", () => {
  test("a change deep down is copied once per level, not once per path", () => {
    let v = "[9007199254740991]";
    for (let i = 0; i < 30; i++) v = `{'a': ${v}, 'b': 1}`;
    const c = compileExpression(v);
    if (!c.ok) throw new Error(c.message);
    const start = performance.now();
    let out = c.expression.evaluate({}) as Record<string, unknown>;
    expect(performance.now() - start).toBeLessThan(500);
    for (let i = 0; i < 30; i++) {
      expect(out.b).toBe(1);
      out = out.a as Record<string, unknown>;
    }
    expect(out).toEqual([Number.MAX_SAFE_INTEGER] as unknown as Record<string, unknown>);
  });
});
