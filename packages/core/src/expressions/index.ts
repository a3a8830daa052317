/**
 * Common Expression Language, for a step's `if` and `for_each`. Compiled once per source text and
 * evaluated without `eval`. (A stub until the library is chosen: everything compiles, to `true`.)
 */
export interface Expression {
  readonly source: string;
  /** Throws an ExpressionError when the expression cannot be evaluated on these variables. */
  evaluate(variables: Readonly<Record<string, unknown>>): unknown;
}

export class ExpressionError extends Error {}

export type Compiled = { ok: true; expression: Expression } | { ok: false; message: string };

export function compileExpression(source: string): Compiled {
  return { ok: true, expression: { source, evaluate: () => true } };
}
