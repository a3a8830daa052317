import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { StepStatus } from "../runs/run.ts";
import type { StepSpec } from "../workflows/definition.ts";
import { buildGraph, planSteps } from "./planner.ts";

/** A random definition: each step needs a random set of earlier steps, or (absent) the previous one. */
export const dagArb = (max = 12) =>
  fc.integer({ min: 1, max }).chain((n) =>
    fc.tuple(
      ...Array.from({ length: n }, (_, i) =>
        fc.record({
          needs: fc.option(fc.subarray(Array.from({ length: i }, (_, j) => `s${j}`)), { nil: undefined }),
          cond: fc.boolean(),
          fails: fc.boolean(),
          cont: fc.boolean(),
        }),
      ),
    ),
  );

const specs = (dag: { needs?: string[]; cond: boolean }[], withIf: boolean): StepSpec[] =>
  dag.map((d, i) => ({
    name: `s${i}`,
    type: "transform",
    config: { output: i },
    ...(d.needs !== undefined && { needs: d.needs }),
    ...(withIf && { if: String(d.cond) }),
  }));

describe("buildGraph", () => {
  test("absent needs mean the previous step; [] means none; leaves are the steps nobody needs", () => {
    const g = buildGraph([
      { name: "a", type: "log", config: { message: "" } },
      { name: "b", type: "log", config: { message: "" } },
      { name: "c", type: "log", config: { message: "" }, needs: [] },
      { name: "d", type: "log", config: { message: "" }, needs: ["a", "c"] },
    ]);
    expect(g.needs).toEqual([[], [0], [], [0, 2]]);
    expect(g.leaves).toEqual([1, 3]);
    expect(g.sequential).toBe(false);
  });
});

describe("planSteps", () => {
  test("a v1 list runs one step at a time, in order", () => {
    const g = buildGraph(specs([{ cond: true }, { cond: true }, { cond: true }], false));
    expect(planSteps(g, [], () => true)).toMatchObject({ ready: [0], outcome: "running" });
    expect(planSteps(g, [{ status: "running" }], () => true)).toMatchObject({ ready: [], outcome: "running" });
    expect(planSteps(g, [{ status: "completed" }], () => true)).toMatchObject({ ready: [1], outcome: "running" });
    expect(planSteps(g, [{ status: "completed" }, { status: "completed" }, { status: "completed" }], () => true)).toMatchObject({
      ready: [],
      outcome: "completed",
    });
  });

  // The run as a loop of plans, completing one random in-flight step at a time: whatever the order,
  // every step runs at most once, only after its needs are over, and is skipped exactly when its
  // condition is false or all of its needs were skipped.
  test("random DAGs, random conditions and completion orders: each step runs once, after its needs, or is skipped by the rules", () => {
    fc.assert(
      fc.property(dagArb(), fc.infiniteStream(fc.nat()), (dag, picks) => {
        const g = buildGraph(specs(dag, true));
        const states: ({ status: StepStatus } | undefined)[] = [];
        const started: number[] = [];
        const asked = new Set<number>();
        const it = picks[Symbol.iterator]();
        for (let round = 0; ; round++) {
          expect(round).toBeLessThan(200);
          const plan = planSteps(g, states, (i) => {
            expect(asked.has(i)).toBe(false);
            asked.add(i);
            return dag[i]!.cond;
          });
          for (const { step } of plan.skipped) states[step] = { status: "skipped" };
          for (const i of plan.ready) {
            expect(states[i]).toBeUndefined();
            for (const j of g.needs[i]!) expect(["completed", "skipped"]).toContain(states[j]?.status ?? "not started");
            states[i] = { status: "running" };
            started.push(i);
          }
          if (plan.outcome === "completed") break;
          expect(plan.outcome).toBe("running");
          const running = states.flatMap((s, i) => (s?.status === "running" ? [i] : []));
          expect(running.length).toBeGreaterThan(0);
          states[running[it.next().value % running.length]!] = { status: "completed" };
        }
        const skipped: boolean[] = [];
        dag.forEach((d, i) => {
          const needs = g.needs[i]!;
          skipped[i] = (needs.length > 0 && needs.every((j) => skipped[j])) || !d.cond;
        });
        dag.forEach((_, i) => {
          expect(states[i]?.status).toBe(skipped[i] ? "skipped" : "completed");
        });
        expect(new Set(started).size).toBe(started.length);
      }),
    );
  });

  test("a failed step fails the run unless it says on_error: continue; its dependents then still run", () => {
    fc.assert(
      fc.property(dagArb(), fc.infiniteStream(fc.nat()), (dag, picks) => {
        const steps = specs(dag, false).map((s, i) => ({ ...s, on_error: dag[i]!.cont ? ("continue" as const) : ("fail" as const) }));
        const g = buildGraph(steps);
        const states: ({ status: StepStatus } | undefined)[] = [];
        const it = picks[Symbol.iterator]();
        for (;;) {
          const plan = planSteps(g, states, () => true);
          if (plan.outcome === "failed") {
            const i = plan.failedStep!;
            expect(states[i]?.status).toBe("failed");
            expect(dag[i]!.cont).toBe(false);
            expect(plan.ready).toEqual([]);
            return;
          }
          for (const i of plan.ready) states[i] = { status: "running" };
          if (plan.outcome === "completed") break;
          const running = states.flatMap((s, i) => (s?.status === "running" ? [i] : []));
          const i = running[it.next().value % running.length]!;
          states[i] = { status: dag[i]!.fails ? "failed" : "completed" };
        }
        // Completed: every failure was a step that continues.
        dag.forEach((d, i) => {
          expect(states[i]?.status).toBe(d.fails ? "failed" : "completed");
          if (d.fails) expect(d.cont).toBe(true);
        });
      }),
    );
  });

  test("a condition that cannot be evaluated fails its step", () => {
    const g = buildGraph(specs([{ cond: true }], true));
    expect(planSteps(g, [], () => ({ error: "no such key: x" }))).toMatchObject({
      outcome: "failed",
      failedStep: 0,
      broken: [{ step: 0, error: "no such key: x" }],
    });
  });
});
