/**
 * Common Expression Language, for a step's `if` and `for_each` (docs/expressions.md). Parsed and
 * type-checked once per source text against the declared variables, evaluated without `eval`
 * within a cost limit, results handed back as plain JSON.
 */
import type { ParseResult } from "@marcbachmann/cel-js";
import { CostExceeded, instrument, isAstNode, MAX_EVALUATION_COST, metered } from "./budget.ts";
import { environment, MAX_EXPRESSION_LENGTH, PARSE_LIMITS, VARIABLES } from "./environment.ts";
import { Lru } from "./lru.ts";
import { describeJson, NotJson, toJson, withoutConstructorKeys } from "./values.ts";

export { MAX_EVALUATION_COST, MAX_EXPRESSION_LENGTH, PARSE_LIMITS, VARIABLES };

export interface Expression {
  readonly source: string;
  /** Throws an ExpressionError when the expression cannot be evaluated on these variables. */
  evaluate(variables: Readonly<Record<string, unknown>>): unknown;
}

/** What compileExpression hands back: an Expression, and what the type check learnt about it. */
export interface CompiledExpression extends Expression {
  /** The checked result type: `bool`, `list`, `int`, `dyn` (known only when evaluated)... */
  readonly type: string;
  /** Step names the expression reads as `steps.<name>` or `steps["<name>"]`, in order of first use. */
  readonly steps: readonly string[];
  /** The declared variables it reads (`input`, `steps`, `item`, `index`). */
  readonly variables: readonly string[];
}

export class ExpressionError extends Error {
  override name = "ExpressionError";
}

export type Compiled = { ok: true; expression: CompiledExpression } | { ok: false; message: string };

/** Compiled expressions kept, by source text: definitions repeat the same few conditions. */
export const EXPRESSION_CACHE_SIZE = 4096;
const cache = new Lru<string, Compiled>(EXPRESSION_CACHE_SIZE);

/** Parses and type-checks once per source text; the same text returns the same result. */
export function compileExpression(source: string): Compiled {
  let compiled = cache.get(source);
  if (compiled === undefined) {
    compiled = compile(source);
    cache.set(source, compiled);
  }
  return compiled;
}

/** Compiles an expression whose result must be a bool (a step's `if`). */
export function compileCondition(source: string): Compiled {
  return expecting(compileExpression(source), (t) => t === "bool", "a bool");
}

/** Compiles an expression whose result must be a list (a step's `for_each`). */
export function compileList(source: string): Compiled {
  return expecting(compileExpression(source), (t) => t === "list" || t.startsWith("list<"), "a list");
}

function expecting(c: Compiled, fits: (type: string) => boolean, what: string): Compiled {
  if (!c.ok || c.expression.type === "dyn" || fits(c.expression.type)) return c;
  return { ok: false, message: `must yield ${what}, but yields ${c.expression.type}` };
}

/** Evaluates a condition; a result other than a bool is an ExpressionError. */
export function evaluateCondition(expression: Expression, variables: Readonly<Record<string, unknown>>): boolean {
  const value = expression.evaluate(variables);
  if (typeof value !== "boolean") throw new ExpressionError(`must yield a bool, got ${describeJson(value)}`);
  return value;
}

/** Evaluates a list expression; a non-list, or a list longer than maxItems, is an ExpressionError. */
export function evaluateList(expression: Expression, variables: Readonly<Record<string, unknown>>, maxItems: number): unknown[] {
  // Counted before the items are converted: a list too long is refused without copying it.
  const value = expression instanceof CelExpression ? expression.evaluateRaw(variables) : expression.evaluate(variables);
  if (!Array.isArray(value)) throw new ExpressionError(`must yield a list, got ${describeJson(fromCel(value))}`);
  if (value.length > maxItems) throw new ExpressionError(`yields ${value.length} items, more than the ${maxItems} allowed`);
  return fromCel(value) as unknown[];
}

/** Forgets every compiled expression (tests). */
export function clearExpressionCache(): void {
  cache.clear();
}

export function expressionCacheSize(): number {
  return cache.size;
}

class CelExpression implements CompiledExpression {
  constructor(
    readonly source: string,
    readonly type: string,
    readonly steps: readonly string[],
    readonly variables: readonly string[],
    private readonly run: ParseResult,
  ) {}

  evaluate(variables: Readonly<Record<string, unknown>>): unknown {
    return fromCel(this.evaluateRaw(variables));
  }

  /** The library's own value (BigInt ints, Maps...), before conversion to JSON. */
  evaluateRaw(variables: Readonly<Record<string, unknown>>): unknown {
    const context = celVariables(variables);
    try {
      return metered(() => this.run(context));
    } catch (e) {
      // Retried only for objects with a "constructor" key (see withoutConstructorKeys): rare.
      if (celCode(e) !== "unsupported_type") throw this.#error(e);
      try {
        return metered(() => this.run(withoutConstructorKeys(context) as Record<string, unknown>));
      } catch (again) {
        throw this.#error(again);
      }
    }
  }

  #error(e: unknown): ExpressionError {
    if (e instanceof CostExceeded) return new ExpressionError(e.message);
    const summary = celSummary(e);
    if (summary === undefined) return new ExpressionError(`evaluation failed: ${e instanceof Error ? e.message : String(e)}`);
    const name = /^Unknown variable: (item|index)$/.exec(summary)?.[1];
    const text = name ? `${name} is set only in a step with for_each` : summary;
    return new ExpressionError(`${text}${where(this.source, e)}`);
  }
}

function fromCel(value: unknown): unknown {
  try {
    return toJson(value);
  } catch (e) {
    if (e instanceof NotJson) throw new ExpressionError(`the result has no JSON form: ${e.message}`);
    throw e;
  }
}

/**
 * The variables as the library wants them. JSON numbers stay doubles (CEL's JSON mapping);
 * `index` is declared int, so it goes in as a BigInt.
 */
function celVariables(variables: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of VARIABLES) {
    const v = variables[name];
    if (v === undefined) continue;
    if (name === "index" && typeof v === "number") {
      if (!Number.isSafeInteger(v)) throw new ExpressionError(`index must be an integer, got ${v}`);
      out.index = BigInt(v);
    } else out[name] = v;
  }
  return out;
}

function compile(source: string): Compiled {
  if (typeof source !== "string") return { ok: false, message: "expression must be a string" };
  if (source.trim() === "") return { ok: false, message: "expression is empty" };
  if (source.length > MAX_EXPRESSION_LENGTH)
    return { ok: false, message: `expression is ${source.length} characters long, more than the ${MAX_EXPRESSION_LENGTH} allowed` };
  let run: ParseResult;
  try {
    run = environment.parse(source);
  } catch (e) {
    return { ok: false, message: compileMessage("syntax error", source, e) };
  }
  const refused = refusedCall(run.ast);
  if (refused) return { ok: false, message: refused };
  const checked = run.check();
  if (!checked.valid) return { ok: false, message: compileMessage("type error", source, checked.error) };
  try {
    instrument(run.ast);
  } catch (e) {
    // A library upgrade that changed its tree: refuse rather than evaluate without a cost limit.
    return { ok: false, message: `expression cannot be prepared: ${e instanceof Error ? e.message : String(e)}` };
  }
  return { ok: true, expression: new CelExpression(source, checked.type ?? "dyn", stepNames(run.ast), variableNames(run.ast), run) };
}

function compileMessage(kind: string, source: string, e: unknown): string {
  const summary = celSummary(e) ?? (e instanceof Error ? e.message : String(e));
  return `${kind}${where(source, e)}: ${summary}`;
}

/** Function names refused at compile time, with the reason. */
const REFUSED: Record<string, string> = {
  // The library runs matches() on JavaScript's backtracking RegExp: '(a+)+$' on 30 characters of
  // input blocks the process for seconds, and CEL specifies RE2 (linear time) syntax anyway.
  matches: "matches() is not supported (regular expressions could stall the worker); use contains, startsWith or endsWith",
};

function refusedCall(root: unknown): string | undefined {
  for (const node of nodes(root)) {
    if (node.op !== "call" && node.op !== "rcall") continue;
    const name = (node.args as [string])[0];
    if (Object.hasOwn(REFUSED, name)) return REFUSED[name];
  }
  return undefined;
}

function stepNames(root: unknown): string[] {
  const names = new Set<string>();
  for (const node of nodes(root)) {
    if (node.op !== "." && node.op !== "[]") continue;
    const [target, key] = node.args as [unknown, unknown];
    if (!isAstNode(target) || target.op !== "id" || target.args !== "steps") continue;
    if (typeof key === "string") names.add(key);
    else if (isAstNode(key) && key.op === "value" && typeof key.args === "string") names.add(key.args);
  }
  return [...names];
}

function variableNames(root: unknown): string[] {
  const declared = new Set<string>(VARIABLES);
  const names = new Set<string>();
  for (const node of nodes(root)) if (node.op === "id" && typeof node.args === "string" && declared.has(node.args)) names.add(node.args);
  return [...names];
}

/** Every node of a parsed tree, as written (expanded macros are not entered). */
function* nodes(root: unknown): Generator<{ op: string; args: unknown }> {
  const todo: unknown[] = [root];
  while (todo.length > 0) {
    const v = todo.pop();
    if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) todo.push(v[i]);
    else if (isAstNode(v)) {
      yield v;
      todo.push(v.args);
    }
  }
}

function celSummary(e: unknown): string | undefined {
  const s = (e as { summary?: unknown } | null)?.summary;
  return typeof s === "string" ? s.split("\n")[0] : undefined;
}

function celCode(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === "string" ? c : undefined;
}

/** " at column N" (or "line L, column C") from the error's source range, when it has one. */
function where(source: string, e: unknown): string {
  const start = (e as { range?: { start?: unknown } } | null)?.range?.start;
  if (typeof start !== "number") return "";
  const before = source.slice(0, start);
  const line = before.split("\n").length;
  const column = start - before.lastIndexOf("\n");
  return line === 1 ? ` at column ${column}` : ` at line ${line}, column ${column}`;
}
