import type { WorkflowInput } from "@wf/core/workflows";
import type { ShapeInfo } from "./results.ts";

/** A workflow the bench triggers, as the API takes it. */
export interface Shape extends ShapeInfo {
  definition: WorkflowInput;
}

/** The cross-engine harness's trivial workflow: transform, transform, log (no I/O of its own). */
export const CHAIN_3: Shape = {
  name: "chain-3",
  steps: 3,
  description: "transform → transform → log, each step using the one before",
  definition: {
    name: "bench-runs-chain-3",
    steps: [
      { name: "add", type: "transform", config: { output: { v: "{{input.x}}" } } },
      { name: "double", type: "transform", config: { output: { v: "{{steps.add.output.v}}", twice: true } } },
      { name: "log", type: "log", config: { message: "done {{steps.double.output.v}}", level: "debug" } },
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
        config: { output: { v: `{{steps.s${i + 1}.output.v}}` } },
      })),
      { name: "log", type: "log", config: { message: "done {{steps.s9.output.v}}", level: "debug" } },
    ],
  },
};

export const SHAPES: Shape[] = [CHAIN_3, CHAIN_10];
