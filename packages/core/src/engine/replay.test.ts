import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { STEP_STATUSES, type StepResult, type StepStatus } from "../runs/run.ts";
import type { StepSpec } from "../workflows/definition.ts";
import { buildGraph } from "./planner.ts";
import { isReplayPlan, planReplay, type ReplayPlan } from "./replay.ts";

/** A random definition: each step needs a random set of earlier steps, or (absent) the previous one. */
const dagArb = fc
  .integer({ min: 1, max: 12 })
  .chain((n) =>
    fc.tuple(
      ...Array.from({ length: n }, (_, i) =>
        fc.record({ needs: fc.option(fc.subarray(Array.from({ length: i }, (_, j) => `s${j}`)), { nil: undefined }) }),
      ),
    ),
  );

const specs = (dag: { needs?: string[] }[]): StepSpec[] =>
  dag.map((d, i) => ({ name: `s${i}`, type: "transform", config: { output: i }, ...(d.needs !== undefined && { needs: d.needs }) }));

const result = (name: string, status: StepStatus): StepResult => ({
  name,
  status,
  attempts: 1,
  started_at: "2026-01-01T00:00:00.000Z",
  finished_at: "2026-01-01T00:00:01.000Z",
  output: { of: name },
});

/** A definition and what an original run recorded of it: each step a random status, or absent (never started). */
const runArb = dagArb.chain((dag) =>
  fc.tuple(
    fc.constant(specs(dag)),
    fc.array(fc.option(fc.constantFrom(...STEP_STATUSES), { nil: undefined }), { minLength: dag.length, maxLength: dag.length }),
  ),
);

const plan = (defn: StepSpec[], original: StepResult[], from?: string): ReplayPlan => {
  const p = planReplay(defn, original, from);
  if (!isReplayPlan(p)) throw new Error(p.message);
  return p;
};
const recorded = (defn: StepSpec[], statuses: (StepStatus | undefined)[]) =>
  defn.flatMap((s, i) => (statuses[i] === undefined ? [] : [result(s.name, statuses[i]!)]));
/** Every step downstream of `from` (itself included), in the graph of needs. */
const downstream = (defn: StepSpec[], from: number): Set<number> => {
  const g = buildGraph(defn);
  const out = new Set([from]);
  defn.forEach((_, i) => {
    if (g.needs[i]!.some((j) => out.has(j))) out.add(i);
  });
  return out;
};

describe("planReplay", () => {
  test("a reused step never needs a step that runs again; every step is either reused or executed; reused results are the original's", () => {
    fc.assert(
      fc.property(runArb, fc.option(fc.nat(), { nil: undefined }), ([defn, statuses], pick) => {
        const original = recorded(defn, statuses);
        const from = pick === undefined ? undefined : defn[pick % defn.length]!.name;
        const p = plan(defn, original, from);
        const g = buildGraph(defn);
        const reused = new Set(p.steps.map((s) => s.name));
        defn.forEach((s, i) => {
          expect(reused.has(s.name)).toBe(!p.executed.includes(s.name));
          if (reused.has(s.name)) for (const j of g.needs[i]!) expect(reused.has(defn[j]!.name)).toBe(true);
        });
        for (const s of p.steps) {
          const { reused: flag, ...rest } = s;
          expect(flag).toBe(true);
          expect(rest).toEqual(original.find((o) => o.name === s.name)!);
          expect(["completed", "skipped"]).toContain(s.status);
        }
        expect(p.executed.length).toBeGreaterThan(0);
        if (from !== undefined) expect(p.executed).toContain(from);
      }),
    );
  });

  test("the default start executes every step that did not complete and keeps every step outside their descendants", () => {
    fc.assert(
      fc.property(runArb, ([defn, statuses]) => {
        const p = plan(defn, recorded(defn, statuses));
        const unfinished = defn.map((_, i) => i).filter((i) => statuses[i] !== "completed" && statuses[i] !== "skipped");
        const executed = new Set(unfinished.flatMap((i) => [...downstream(defn, i)]));
        if (unfinished.length === 0) expect(p.executed).toEqual(defn.map((s) => s.name));
        else expect(p.executed).toEqual(defn.filter((_, i) => executed.has(i)).map((s) => s.name));
        defn.forEach((s, i) => {
          if (statuses[i] === "failed") expect(p.executed).toContain(s.name);
        });
      }),
    );
  });

  test("from a step: it, its descendants and the steps the original did not finish (with theirs) execute; the rest is reused", () => {
    fc.assert(
      fc.property(runArb, fc.nat(), ([defn, statuses], pick) => {
        const from = pick % defn.length;
        const p = plan(defn, recorded(defn, statuses), defn[from]!.name);
        const starts = [from, ...defn.map((_, i) => i).filter((i) => statuses[i] !== "completed" && statuses[i] !== "skipped")];
        const executed = new Set(starts.flatMap((i) => [...downstream(defn, i)]));
        expect(p.executed).toEqual(defn.filter((_, i) => executed.has(i)).map((s) => s.name));
      }),
    );
  });

  test("replaying a completed v1 list from its first step reuses nothing; from a later step, exactly the steps before it", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.nat(), (n, pick) => {
        const defn = specs(Array.from({ length: n }, () => ({})));
        const original = recorded(
          defn,
          defn.map(() => "completed"),
        );
        expect(plan(defn, original, "s0")).toEqual({ steps: [], executed: defn.map((s) => s.name) });
        const from = pick % n;
        const p = plan(defn, original, `s${from}`);
        expect(p.steps.map((s) => s.name)).toEqual(defn.slice(0, from).map((s) => s.name));
      }),
    );
  });

  test("a completed run replayed without from_step runs again as a whole", () => {
    const defn = specs([{}, {}, {}]);
    expect(plan(defn, recorded(defn, ["completed", "completed", "skipped"]))).toEqual({ steps: [], executed: ["s0", "s1", "s2"] });
  });

  test("a failed middle step of a list: the steps before it are reused, it and the rest execute", () => {
    const defn = specs([{}, {}, {}]);
    const p = plan(defn, recorded(defn, ["completed", "failed", undefined]));
    expect(p.executed).toEqual(["s1", "s2"]);
    expect(p.steps).toEqual([{ ...result("s0", "completed"), reused: true }]);
  });

  test("a graph a→b, a→c, (b, c)→d replayed from c reuses a and b", () => {
    const defn: StepSpec[] = [
      { name: "a", type: "log", config: { message: "" } },
      { name: "b", type: "log", config: { message: "" }, needs: ["a"] },
      { name: "c", type: "log", config: { message: "" }, needs: ["a"] },
      { name: "d", type: "log", config: { message: "" }, needs: ["b", "c"] },
    ];
    const original = ["a", "b", "c", "d"].map((n) => result(n, "completed"));
    const p = plan(defn, original, "c");
    expect(p.executed).toEqual(["c", "d"]);
    expect(p.steps.map((s) => [s.name, s.reused])).toEqual([
      ["a", true],
      ["b", true],
    ]);
  });

  test("a from_step that is not a step of the definition is an error at /from_step", () => {
    const defn = specs([{}]);
    expect(planReplay(defn, [], "nope")).toEqual({
      path: "/from_step",
      message: 'from_step "nope" is not a step of the run\'s definition',
    });
  });
});
