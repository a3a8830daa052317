import type { WorkflowInput } from "@wf/contract/workflows";
import type { Static } from "elysia";
import type { ShapeInfo } from "./results.ts";

/** A workflow the bench triggers, as the API takes it (the contract's schema: the typed client checks it). */
export interface Shape extends ShapeInfo {
  definition: Static<typeof WorkflowInput>;
  /** At most this many runs one at a time (a large shape's runs each take longer). */
  sequentialRuns?: number;
}

const list = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The cross-engine harness's trivial workflow: transform, transform, log (no I/O of its own). */
export const CHAIN_3: Shape = {
  name: "chain-3",
  steps: 3,
  description: "transform → transform → log, each step using the one before",
  definition: {
    name: "bench-runs-chain-3",
    steps: [
      { name: "add", type: "transform", config: { output: { v: "{{input.x}}" } } },
      { name: "double", type: "transform", config: { output: { v: "{{steps.add.v}}", twice: true } } },
      { name: "log", type: "log", config: { message: "done {{steps.double.v}}", level: "debug" } },
    ],
  },
};

/** Ten sequential steps: where the cost per step, not per run, shows. */
export const CHAIN_10: Shape = {
  name: "chain-10",
  steps: 10,
  description: "nine transforms, each using the one before, then a log",
  definition: {
    name: "bench-runs-chain-10",
    steps: [
      { name: "s1", type: "transform", config: { output: { v: "{{input.x}}" } } },
      ...Array.from({ length: 8 }, (_, i) => ({
        name: `s${i + 2}`,
        type: "transform" as const,
        config: { output: { v: `{{steps.s${i + 1}.v}}` } },
      })),
      { name: "log", type: "log", config: { message: "done {{steps.s9.v}}", level: "debug" } },
    ],
  },
};

/**
 * 100 parallel branches joined by one step. A definition has at most 50 steps, so the branches are
 * the items of a `for_each` that runs them all at once.
 */
export const FANOUT_100: Shape = {
  name: "fanout-100",
  steps: 102,
  description: "a list of 100, a for_each running all 100 items at once (transforms), a join",
  sequentialRuns: 200,
  definition: {
    name: "bench-runs-fanout-100",
    steps: [
      { name: "list", type: "transform", config: { output: list(100) } },
      {
        name: "branch",
        type: "transform",
        config: { output: { i: "{{item}}", x: "{{input.x}}" } },
        for_each: "steps.list.output",
        concurrency: 100,
      },
      { name: "join", type: "transform", config: { output: { branches: "{{steps.branch}}" } } },
    ],
  },
};

/** One for_each over 1,000 items, 100 at a time: the cost per item. */
export const FOREACH_1000: Shape = {
  name: "foreach-1000",
  steps: 1_002,
  description: "a list of 1,000, a for_each over it (transforms, 100 at a time), a log",
  sequentialRuns: 50,
  definition: {
    name: "bench-runs-foreach-1000",
    steps: [
      { name: "list", type: "transform", config: { output: list(1_000) } },
      { name: "each", type: "transform", config: { output: "{{item}}" }, for_each: "steps.list.output", concurrency: 100 },
      { name: "log", type: "log", config: { message: "done {{input.x}}", level: "debug" } },
    ],
  },
};

export const SHAPES: Shape[] = [CHAIN_3, CHAIN_10, FANOUT_100, FOREACH_1000];
