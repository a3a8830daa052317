import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { StepResult } from "../runs/run.ts";
import type { StepSpec } from "../workflows/definition.ts";
import { dagArb } from "./planner.test.ts";
import { buildGraph } from "./planner.ts";
import { abortableSleep, type EngineDeps, executeRun, type RunOutcome } from "./run-engine.ts";
import { StepFailure } from "./step-failure.ts";

const never = new AbortController().signal;
const quiet = { log: () => {}, sleep: abortableSleep };

const run = (steps: StepSpec[], deps: Partial<EngineDeps> = {}, prior: StepResult[] = [], input: unknown = {}) =>
  executeRun(
    { runId: "r", steps, input, prior },
    { http: async () => ({ status: 200, headers: {}, body: null }), ...quiet, ...deps },
    async () => true,
    never,
  );

const transform = (name: string, output: unknown, extra: Partial<StepSpec> = {}): StepSpec => ({
  name,
  type: "transform",
  config: { output },
  ...extra,
});

describe("executeRun as a graph", () => {
  test("independent steps run at the same time: the two middle delays of a diamond overlap", async () => {
    const out = await run([
      transform("a", 1),
      { name: "b", type: "delay", config: { ms: 100 }, needs: ["a"] },
      { name: "c", type: "delay", config: { ms: 100 }, needs: ["a"] },
      transform("d", "{{steps.b.waited_ms}}", { needs: ["b", "c"] }),
    ]);
    expect(out).toMatchObject({ status: "completed", output: { d: 100 } });
    const [, b, c, d] = out.steps;
    // Overlap, read from the recorded times rather than a wall-clock bound.
    expect(c!.started_at! < b!.finished_at!).toBe(true);
    expect(b!.started_at! < c!.finished_at!).toBe(true);
    expect(d!.started_at! >= b!.finished_at! && d!.started_at! >= c!.finished_at!).toBe(true);
  });

  test("a v1 list's output is its last step's; a graph's is an object of its leaves' outputs", async () => {
    expect(await run([transform("a", 1), transform("b", 2)])).toMatchObject({ status: "completed", output: 2 });
    expect(await run([transform("a", 1), transform("b", 2, { needs: [] })])).toMatchObject({
      status: "completed",
      output: { a: 1, b: 2 },
    });
  });

  test("on_error: continue records the failure and goes on; the default fails the run and stops its siblings", async () => {
    const failing = { http: async () => Promise.reject(new StepFailure("boom", false)) };
    const cont = await run(
      [{ name: "call", type: "http", config: { method: "GET", url: "http://x" }, on_error: "continue" }, transform("after", "ran")],
      failing,
    );
    expect(cont).toMatchObject({ status: "completed", output: "ran" });
    expect(cont.steps[0]).toMatchObject({ status: "failed", error: "boom" });

    const fail = await run(
      [
        { name: "slow", type: "delay", config: { ms: 5_000 }, needs: [] },
        { name: "call", type: "http", config: { method: "GET", url: "http://x" }, needs: [] },
        transform("after", "ran", { needs: ["slow", "call"] }),
      ],
      failing,
    );
    expect(fail).toMatchObject({ status: "failed", error: 'step "call" failed after 1 attempt(s): boom' });
    expect(fail.steps.map((s) => [s.name, s.status])).toEqual([
      ["slow", "cancelled"],
      ["call", "failed"],
    ]);
  });

  test("for_each runs the step per item with at most `concurrency` in flight; its output is in item order", async () => {
    let inFlight = 0;
    let most = 0;
    const http: EngineDeps["http"] = async (c) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await Bun.sleep(Math.random() * 5);
      inFlight--;
      return { status: 200, headers: {}, body: c.url };
    };
    // The expression module is asked for the list; the test's input is the list itself.
    const items = Array.from({ length: 30 }, (_, i) => i);
    const out = (await run(
      [{ name: "each", type: "http", config: { method: "GET", url: "http://x/{{index}}/{{item}}" }, for_each: "input", concurrency: 4 }],
      { http },
      [],
      items,
    )) as RunOutcome & { output: { body: string }[] };
    expect(out.status).toBe("completed");
    expect(most).toBe(4);
    expect(out.output.map((o) => o.body)).toEqual(items.map((i) => `http://x/${i}/${i}`));
  });

  test("a for_each step's if that reads item or index filters its items: the others are skipped, their outputs null", async () => {
    const out = await run([transform("each", "{{item}}!", { for_each: "input", if: "index % 2 == 0" })], {}, [], ["a", "b", "c", "d"]);
    expect(out).toMatchObject({ status: "completed", output: ["a!", null, "c!", null] });
  });
});

/**
 * The engine under a random schedule: every step is an http call whose answer arrives when the
 * scheduler says, checkpoints are written when it says, and the worker may be killed (or shut down,
 * handing back what it has) at any point, then the run resumed from what was durably recorded.
 */
describe("executeRun under random schedules, crashes and redeliveries", () => {
  test("every step completes, each starts only after its needs, and a step recorded as completed never runs again", async () => {
    await fc.assert(
      fc.asyncProperty(dagArb(8), fc.array(fc.boolean(), { maxLength: 3 }), fc.scheduler(), async (dag, crashes, s) => {
        const steps: StepSpec[] = dag.map((d, i) => ({
          name: `s${i}`,
          type: "http",
          config: { method: "GET", url: `http://x/s${i}` },
          ...(d.needs !== undefined && { needs: d.needs }),
        }));
        const g = buildGraph(steps);
        let durable: StepResult[] = [];
        const calls = new Map<string, number>();
        for (let attempt = 0; ; attempt++) {
          const recordedDone = new Set(durable.filter((r) => r.status === "completed").map((r) => r.name));
          const doneHere = new Set<string>();
          const ac = new AbortController();
          // A dead worker writes nothing more: a write of its own still in flight is refused by the lease.
          let alive = true;
          const http: EngineDeps["http"] = (c, signal) => {
            const name = c.url.slice("http://x/".length);
            const i = Number(name.slice(1));
            expect(recordedDone.has(name)).toBe(false);
            for (const j of g.needs[i]!) expect(recordedDone.has(`s${j}`) || doneHere.has(`s${j}`)).toBe(true);
            calls.set(name, (calls.get(name) ?? 0) + 1);
            return new Promise((resolve, reject) => {
              signal.addEventListener("abort", () => reject(signal.reason), { once: true });
              s.schedule(Promise.resolve(), `answer ${name}`).then(() => {
                if (signal.aborted) return;
                doneHere.add(name);
                resolve({ status: 200, headers: {}, body: name });
              });
            });
          };
          const checkpoint = (recorded: StepResult[]) => {
            const snapshot = structuredClone(recorded);
            return s.schedule(Promise.resolve(true), "checkpoint").then((ok) => {
              if (!alive) return false;
              durable = snapshot;
              return ok;
            });
          };
          const crash = crashes[attempt];
          // A crash: kill -9 (nothing more is written) or a graceful shutdown (the progress is handed back).
          if (crash !== undefined) s.schedule(Promise.resolve(), "crash").then(() => ac.abort("shutdown"));
          const outcome = await s.waitFor(
            executeRun({ runId: "r", steps, input: {}, prior: durable }, { http, ...quiet }, checkpoint, ac.signal),
          );
          alive = false;
          if (outcome.status === "stopped") {
            expect(outcome.reason).toBe("shutdown");
            if (crash === true) durable = structuredClone(outcome.steps);
            continue;
          }
          expect(outcome.status).toBe("completed");
          expect(outcome.steps.map((r) => [r.name, r.status])).toEqual(steps.map((st) => [st.name, "completed"]));
          expect([...calls.keys()].sort()).toEqual(steps.map((st) => st.name).sort());
          break;
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe("executeRun of a replay (planReplay's steps as the prior results)", () => {
  test("reused steps do not execute; their outputs reach templates, conditions, for_each and the run's output", async () => {
    const steps: StepSpec[] = [
      transform("a", [1, 2]),
      transform("b", "b-{{steps.a.output}}", { needs: ["a"] }),
      { name: "each", type: "transform", config: { output: "{{item}}" }, for_each: "steps.a.output", needs: ["a"] },
      transform("c", "{{steps.b.output}}", { needs: ["a"], if: "steps.a.output.size() == 2" }),
      transform("d", { b: "{{steps.b}}", each: "{{steps.each}}", c: "{{steps.c}}" }, { needs: ["b", "each", "c"] }),
    ];
    const done = (name: string, output: unknown): StepResult => ({
      name,
      status: "completed",
      attempts: 1,
      started_at: "2026-01-01T00:00:00.000Z",
      finished_at: "2026-01-01T00:00:01.000Z",
      output,
      reused: true,
    });
    // What the original computed differs from what a run would compute now: reused results are kept as they are.
    const prior = [done("a", [7, 8, 9]), done("b", "old-b"), done("each", ["x", "y", "z"])];
    const out = await run(steps, {}, prior);
    expect(out.status).toBe("completed");
    expect(out.steps.slice(0, 3)).toEqual(prior);
    // c's condition read the reused a (3 items: false): skipped, and d sees the reused outputs.
    expect(out.steps.find((s) => s.name === "c")).toMatchObject({ status: "skipped" });
    expect(out).toMatchObject({ output: { d: { b: "old-b", each: ["x", "y", "z"], c: null } } });
    expect(out.steps.find((s) => s.name === "d")!.reused).toBeUndefined();
  });

  test("a reused leaf's output is part of a graph's output", async () => {
    const prior: StepResult[] = [
      { name: "a", status: "completed", attempts: 1, started_at: null, finished_at: null, output: "kept", reused: true },
    ];
    expect(await run([transform("a", "new"), transform("b", "ran", { needs: [] })], {}, prior)).toMatchObject({
      status: "completed",
      output: { a: "kept", b: "ran" },
    });
  });
});
