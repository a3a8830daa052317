/**
 * A cost limit for one evaluation. CEL has no loops, but its macros (`map`, `filter`, `all`,
 * `exists`, `exists_one`) nest, so `l.map(a, l.map(b, l.map(c, 0)))` costs |l|³; a comparison or a
 * concatenation costs the size of its operands, once per item inside a macro; and `cel.bind` can
 * double a string or a list at each level. The library has no cost limit, so every node is metered
 * here: a unit per evaluation, plus the size of what it builds, compares or passes to a function.
 *
 * It works on the parsed tree of @marcbachmann/cel-js (`op`, `args`, `meta.evaluate`,
 * `meta.alternate` for an expanded macro), which its type declarations do not describe: the version
 * is pinned, and the tests fail if an upgrade changes what this relies on.
 */

/**
 * Units one evaluation may spend: one per node evaluated or list item built or compared, one per 16
 * characters (strings are copied and compared in bulk). About 0.1 s of CPU at worst.
 */
export const MAX_EVALUATION_COST = 1_000_000;

const CHARS_PER_UNIT = 16;
const textUnits = (s: string): number => Math.ceil(s.length / CHARS_PER_UNIT);

export class CostExceeded extends Error {
  constructor() {
    super(`evaluation exceeds its cost limit (${MAX_EVALUATION_COST} units): it iterates, compares or builds too much`);
  }
}

type Evaluate = (this: unknown, ev: unknown, ast: unknown, ctx: unknown) => unknown;

interface AstNode {
  op: string;
  args: unknown;
  meta: { evaluate?: Evaluate; alternate?: AstNode; macro?: unknown };
  setMeta(key: string, value: unknown): AstNode;
  evaluate?: Evaluate;
}

export function isAstNode(v: unknown): v is AstNode {
  return typeof v === "object" && v !== null && typeof (v as AstNode).op === "string" && typeof (v as AstNode).setMeta === "function";
}

let remaining = 0;
let exceeded = false;
// Thrown inside the library, which may keep it as a macro's deferred error: one object, no stack.
const STOP = new Error("cost limit");

function spend(units: number): void {
  remaining -= units;
  if (remaining < 0) {
    exceeded = true;
    throw STOP;
  }
}

/** Runs one evaluation with a fresh budget; CostExceeded if it ran out, whatever the library did then. */
export function metered<T>(run: () => T): T {
  remaining = MAX_EVALUATION_COST;
  exceeded = false;
  try {
    const result = run();
    if (exceeded) throw new CostExceeded();
    return result;
  } catch (e) {
    if (exceeded) throw new CostExceeded();
    throw e;
  }
}

/**
 * What a deep comparison may cost: each value visited, weighted by its depth (the library types
 * both sides again at every level, so a chain of depth d costs about d²), plus characters of
 * strings. Stops once past the budget.
 */
const DEPTH_WEIGHT = 8;

function deepSize(value: unknown): number {
  let n = 0;
  const todo: Array<[unknown, number]> = [[value, 0]];
  while (todo.length > 0 && n <= remaining) {
    const [v, depth] = todo.pop()!;
    n += 1 + DEPTH_WEIGHT * depth;
    if (typeof v === "string") n += textUnits(v);
    if (typeof v !== "object" || v === null || v instanceof Uint8Array) continue;
    const children = Array.isArray(v) ? v : v instanceof Map ? [...v.values()] : Object.values(v);
    for (const x of children) todo.push([x, depth + 1]);
  }
  return n;
}

/**
 * To pick an overload for a dyn value the library types it down its first elements, building a
 * type name at every level: about depth³/128 units (measured: 3.6 s at a depth of 2,000). Charged
 * for every object a node yields, so values nested a few hundred levels deep are refused.
 */
function typingCost(v: unknown): number {
  let depth = 0;
  while (typeof v === "object" && v !== null) {
    depth++;
    if (Array.isArray(v)) v = v[0];
    else if (v instanceof Map) v = v.values().next().value;
    else {
      let first: unknown;
      for (const k in v) {
        first = (v as Record<string, unknown>)[k];
        break;
      }
      v = first;
    }
  }
  return depth < 8 ? 0 : Math.ceil((depth * depth * depth) / 128);
}

const lengthOf = (v: unknown): number =>
  typeof v === "string"
    ? textUnits(v)
    : Array.isArray(v)
      ? v.length
      : v instanceof Map
        ? v.size
        : v instanceof Uint8Array
          ? Math.ceil(v.length / CHARS_PER_UNIT)
          : 0;

/** Ops whose result is built by the evaluation (a copy, a new string or list), not read from data. */
const PRODUCERS = new Set(["+", "call", "rcall", "list", "map", "comprehension"]);

/** How a node's result is charged on top of one unit, by the role it plays for its parent. */
type Role =
  | { kind: "plain" }
  | { kind: "compared" }
  | { kind: "argument" }
  | { kind: "range" }
  | { kind: "inLeft"; cell: { size: number } }
  | { kind: "inRight"; cell: { size: number } };

const PLAIN: Role = { kind: "plain" };

function charge(op: string, role: Role, result: unknown): void {
  let units = typeof result === "object" ? 1 + typingCost(result) : 1;
  if (PRODUCERS.has(op)) units += lengthOf(result);
  switch (role.kind) {
    case "compared":
      if (typeof result === "object" || typeof result === "string") units += deepSize(result);
      break;
    case "argument":
      units += lengthOf(result);
      break;
    case "range":
      // A map is iterated over a fresh list of its keys.
      if (typeof result === "object" && result !== null && !Array.isArray(result))
        units += result instanceof Map ? result.size : Object.keys(result).length;
      break;
    case "inLeft":
      role.cell.size = typeof result === "object" && result !== null ? deepSize(result) : 0;
      break;
    case "inRight":
      // Each element is compared with the left operand.
      if (Array.isArray(result)) units += result.length * (1 + role.cell.size);
      break;
  }
  spend(units);
}

function wrap(node: AstNode, role: Role): void {
  const original = node.meta.evaluate;
  if (typeof original !== "function") throw new Error(`cel-js node '${node.op}' has no evaluate hook: the budget cannot meter it`);
  const op = node.op;
  const metered: Evaluate = function (this: unknown, ev, ast, ctx) {
    if (remaining < 0) throw STOP;
    const result = original.call(this, ev, ast, ctx);
    charge(op, role, result);
    return result;
  };
  node.setMeta("evaluate", metered);
  // The node caches its evaluate on first use; replace a cached one too.
  if (Object.hasOwn(node, "evaluate")) node.evaluate = metered;
}

/**
 * Meters every node of a parsed tree. Call once, after the type check (which settles each node's
 * evaluate) and before the first evaluation.
 */
export function instrument(root: unknown): void {
  const wrapped = new Set<AstNode>();
  const visit = (v: unknown, role: Role): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x, role);
      return;
    }
    if (!isAstNode(v) || wrapped.has(v)) return;
    wrapped.add(v);
    const alternate = v.meta.alternate;
    if (alternate) {
      // An expanded macro: what runs is its comprehension, whose step runs once per item.
      if (alternate.op !== "comprehension") {
        visit(alternate, role);
        return;
      }
      const c = alternate.args as { iterable: unknown; init: unknown; step: unknown };
      wrapped.add(alternate);
      wrap(alternate, role);
      visit(c.iterable, { kind: "range" });
      visit(c.init, PLAIN);
      visit(c.step, PLAIN);
      return;
    }
    // has() and cel.bind() run their own code, and their arguments through the evaluator.
    if (!v.meta.macro) wrap(v, role);
    const args = v.args;
    switch (v.op) {
      case "==":
      case "!=":
        visit(args, { kind: "compared" });
        return;
      case "in": {
        const [left, right] = args as [unknown, unknown];
        const cell = { size: 0 };
        visit(left, { kind: "inLeft", cell });
        visit(right, { kind: "inRight", cell });
        return;
      }
      case "call":
      case "rcall": {
        const [name, ...rest] = args as [string, ...unknown[]];
        // size() is constant time: the only call whose cost does not grow with its arguments.
        visit(rest, name === "size" ? PLAIN : { kind: "argument" });
        return;
      }
      default:
        visit(args, PLAIN);
    }
  };
  visit(root, PLAIN);
}
