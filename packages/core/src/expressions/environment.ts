import { Environment } from "@marcbachmann/cel-js";

/** Longest expression accepted, in UTF-16 code units: a condition, not a program. */
export const MAX_EXPRESSION_LENGTH = 2000;

/**
 * Parser limits. Within 2,000 characters nothing legitimate nests 32 deep or needs 1,000 nodes;
 * deeper nesting would only cost stack in the recursive checker and evaluator.
 */
export const PARSE_LIMITS = {
  maxDepth: 32,
  maxAstNodes: 1000,
  maxListElements: 1000,
  maxMapEntries: 1000,
  maxCallArguments: 16,
} as const;

/** The variables an expression sees; a step's `if` and `for_each` are checked against these. */
export const VARIABLES = ["input", "steps", "item", "index"] as const;

/**
 * Every JSON number is a CEL double (CEL's own JSON mapping), so `input.count + 1` would be
 * "no such overload: double + int". Users of a JSON service expect it to work: mixed int/double
 * arithmetic yields a double. The one extension to standard CEL here.
 */
function withMixedArithmetic(env: Environment): Environment {
  const num = (v: unknown): number => Number(v as number | bigint);
  const ops: Array<["+" | "-" | "*" | "/", (a: number, b: number) => number]> = [
    ["+", (a, b) => a + b],
    ["-", (a, b) => a - b],
    ["*", (a, b) => a * b],
    ["/", (a, b) => a / b],
  ];
  for (const [op, f] of ops) {
    env.registerOperator(`double ${op} int`, (a, b) => f(num(a), num(b)));
    env.registerOperator(`int ${op} double`, (a, b) => f(num(a), num(b)));
  }
  return env;
}

/** One environment for the process: building one is costly, and it is immutable once used. */
export const environment: Environment = withMixedArithmetic(
  new Environment({ homogeneousAggregateLiterals: false, limits: PARSE_LIMITS })
    .registerVariable("input", "dyn", { description: "the run's input" })
    .registerVariable("steps", "map<string, dyn>", { description: "finished steps by name: {output, status, error}" })
    .registerVariable("item", "dyn", { description: "the current item of a for_each" })
    .registerVariable("index", "int", { description: "the current item's index in a for_each" }),
);
