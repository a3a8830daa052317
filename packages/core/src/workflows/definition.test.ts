import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { childWorkflows, stepNeeds, validateDefinition, type WorkflowDefinition } from "./definition.ts";

const good = {
  name: "order-sync",
  steps: [
    {
      name: "fetch",
      type: "http",
      config: { method: "GET", url: "http://example.test/orders/{{input.order_id}}", timeout_ms: 2000 },
      retry: { max_attempts: 3, backoff_ms: 100 },
    },
    { name: "pause", type: "delay", config: { ms: 50 } },
    { name: "shape", type: "transform", config: { output: { id: "{{input.order_id}}", status: "{{steps.fetch.status}}" } } },
    { name: "note", type: "log", config: { message: "synced {{input.order_id}}" } },
  ],
};

const paths = (def: unknown) => validateDefinition(def).map((e) => e.path);

describe("validateDefinition", () => {
  test("accepts the contract's example", () => {
    expect(validateDefinition(good)).toEqual([]);
  });

  test("rejects an unknown step type with its path", () => {
    expect(paths({ ...good, steps: [{ name: "x", type: "shell", config: {} }] })).toEqual(["/steps/0/type"]);
  });

  test("rejects bad configs per type", () => {
    const def = {
      name: "bad",
      steps: [
        { name: "a", type: "http", config: { method: "FETCH", url: "ftp://x" } },
        { name: "b", type: "delay", config: { ms: -1 } },
        { name: "c", type: "transform", config: {} },
        { name: "d", type: "log", config: { message: 1, extra: true } },
      ],
    };
    expect(paths(def)).toEqual([
      "/steps/0/config/method",
      "/steps/0/config/url",
      "/steps/1/config/ms",
      "/steps/2/config/output",
      "/steps/3/config/message",
      "/steps/3/config/extra",
    ]);
  });

  test("step names are unique", () => {
    expect(paths({ name: "n", steps: [good.steps[1], good.steps[1]] })).toEqual(["/steps/1/name"]);
  });

  test("placeholders may read only earlier steps", () => {
    const def = {
      name: "n",
      steps: [
        { name: "a", type: "log", config: { message: "{{steps.b.x}} {{steps.a.x}}" } },
        { name: "b", type: "delay", config: { ms: 1 } },
      ],
    };
    expect(validateDefinition(def).map((e) => e.message)).toEqual([
      '{{steps.b.x}} refers to step "b", which does not run before this one',
      '{{steps.a.x}} refers to step "a", which does not run before this one',
    ]);
  });

  test("step count limits", () => {
    expect(paths({ name: "n", steps: [] })).toEqual(["/steps"]);
    expect(
      paths({ name: "n", steps: Array.from({ length: 51 }, (_, i) => ({ name: `s${i}`, type: "delay", config: { ms: 1 } })) }),
    ).toEqual(["/steps"]);
  });

  test("configured limits, lower than the ceilings, are enforced with field paths", () => {
    const limits = { maxSteps: 2, maxNameLength: 5, maxDescriptionLength: 3, maxStringLength: 8 };
    const def = {
      name: "sixsix",
      description: "four",
      steps: [
        { name: "a", type: "log", config: { message: "123456789" } },
        { name: "b", type: "transform", config: { output: { ["k".repeat(9)]: 1 } } },
        { name: "c", type: "delay", config: { ms: 1 } },
      ],
    };
    expect(validateDefinition(def, limits).map((e) => e.path)).toEqual(["/name", "/description", "/steps"]);
    expect(validateDefinition({ ...def, name: "ok", description: null, steps: def.steps.slice(0, 2) }, limits).map((e) => e.path)).toEqual([
      "/steps/0/config/message",
      "/steps/1/config/output",
    ]);
    expect(validateDefinition(good, { ...limits, maxSteps: 50, maxNameLength: 200, maxStringLength: 100 })).toEqual([]);
  });

  test("what PostgreSQL cannot store is a field error, not a 500", () => {
    const def = {
      name: "a\u0000b",
      description: "\ud800",
      steps: [{ name: "a", type: "transform", config: { output: { "x\u0000": "\udc00", n: Infinity } } }],
    };
    expect(paths(def)).toEqual(["/name", "/description", "/steps/0/config/output", "/steps/0/config/output/n"]);
  });

  test("a definition breaking thousands of rules gets a bounded answer", () => {
    const steps = Array.from({ length: 50 }, (_, i) => ({ name: `s${i}`, type: "log", config: { message: "{{x}}".repeat(100) } }));
    expect(validateDefinition({ name: "n", steps })).toHaveLength(100);
  });
});

const delay = (name: string, extra: Record<string, unknown> = {}) => ({ name, type: "delay", config: { ms: 1 }, ...extra });
const log = (name: string, message: string, extra: Record<string, unknown> = {}) => ({ name, type: "log", config: { message }, ...extra });
const errorsOf = (steps: unknown[]) => validateDefinition({ name: "g", steps });
const WORKFLOW_ID = "0196c2a8-7c1e-7d43-9a6b-3f0e2b1c4d5e";

describe("validateDefinition: a graph of steps (needs)", () => {
  test("needs naming earlier steps, [] and absent are accepted", () => {
    expect(errorsOf([delay("a"), delay("b", { needs: [] }), delay("c", { needs: ["a", "b"] }), delay("d")])).toEqual([]);
  });

  test("a later, unknown, repeated or own name is an error naming it, at its index", () => {
    expect(errorsOf([delay("a"), delay("b", { needs: ["c", "x", "a", "a", "b"] }), delay("c")])).toEqual([
      { path: "/steps/1/needs/0", message: 'needs "c", which comes after this step; a step may need only earlier steps' },
      { path: "/steps/1/needs/1", message: 'needs "x", which is not a step of this workflow' },
      { path: "/steps/1/needs/3", message: '"a" is named twice in needs' },
      { path: "/steps/1/needs/4", message: 'a step cannot need itself ("b")' },
    ]);
  });

  test("needs must be an array of at most 50 step names", () => {
    expect(errorsOf([delay("a", { needs: "b" })]).map((e) => e.path)).toEqual(["/steps/0/needs"]);
    expect(errorsOf([delay("a", { needs: null })]).map((e) => e.path)).toEqual(["/steps/0/needs"]);
    expect(errorsOf([delay("a"), delay("b", { needs: [1, "", "a b", "x".repeat(65)] })]).map((e) => e.path)).toEqual([
      "/steps/1/needs/0",
      "/steps/1/needs/1",
      "/steps/1/needs/2",
      "/steps/1/needs/3",
    ]);
    expect(errorsOf([delay("a"), delay("b", { needs: Array.from({ length: 51 }, () => "a") })])).toEqual([
      { path: "/steps/1/needs", message: "needs must name at most 50 steps" },
    ]);
  });
});

describe("validateDefinition: placeholders read only the steps a step runs after", () => {
  test("with needs absent, every earlier step is an ancestor: v1 lists keep their rules", () => {
    expect(errorsOf([delay("a"), delay("b"), log("c", "{{steps.a.x}} {{steps.b.y}}")])).toEqual([]);
  });

  test("ancestors are transitive through needs and through absent needs", () => {
    const steps = [
      delay("a"),
      delay("b", { needs: ["a"] }),
      delay("c", { needs: [] }),
      delay("d"),
      log("e", "{{steps.a}}", { needs: ["b"] }),
    ];
    expect(errorsOf(steps)).toEqual([]);
    // d comes right after c, which needs nothing: c is d's ancestor, a and b are not.
    expect(errorsOf([...steps, log("f", "{{steps.c.x}} {{steps.d.x}}", { needs: ["d"] })])).toEqual([]);
  });

  test("an earlier step that is not an ancestor cannot be read", () => {
    const steps = [delay("a"), delay("b", { needs: [] }), log("c", "{{steps.a.output}} {{steps.b.x}}", { needs: ["b"] })];
    expect(errorsOf(steps)).toEqual([
      {
        path: "/steps/2/config/message",
        message: '{{steps.a.output}} refers to step "a", which this step does not need (directly or through the steps it needs)',
      },
    ]);
    // A step that needs nothing reads no step at all, even the one before it.
    expect(errorsOf([delay("a"), log("b", "{{steps.a.x}}", { needs: [] })]).map((e) => e.path)).toEqual(["/steps/1/config/message"]);
  });

  test("an invalid need grants nothing", () => {
    expect(errorsOf([delay("a"), log("b", "{{steps.c.x}}", { needs: ["c"] }), delay("c")]).map((e) => e.path)).toEqual([
      "/steps/1/needs/0",
      "/steps/1/config/message",
    ]);
  });
});

describe("validateDefinition: for_each, item and index", () => {
  test("item (with a path) and index are allowed in a for_each step only", () => {
    expect(errorsOf([log("a", "{{item}} {{item.id}} #{{index}}", { for_each: "input.orders" })])).toEqual([]);
    expect(errorsOf([log("a", "{{item.id}} #{{index}}")])).toEqual([
      { path: "/steps/0/config/message", message: "{{item.id}} reads the current item of a for_each, and this step has no for_each" },
      { path: "/steps/0/config/message", message: "{{index}} reads the current item of a for_each, and this step has no for_each" },
    ]);
    expect(errorsOf([log("a", "{{index.x}}", { for_each: "input.orders" })]).map((e) => e.path)).toEqual(["/steps/0/config/message"]);
  });

  test("concurrency is an integer from 1 to 1000, with for_each only", () => {
    expect(errorsOf([delay("a", { for_each: "[1, 2]", concurrency: 1 }), delay("b", { for_each: "[1]", concurrency: 1000 })])).toEqual([]);
    expect(errorsOf([delay("a", { concurrency: 5 })])).toEqual([
      { path: "/steps/0/concurrency", message: "concurrency applies to the items of a for_each, and this step has no for_each" },
    ]);
    for (const bad of [0, 1001, 2.5, "3", null])
      expect(errorsOf([delay("a", { for_each: "[1]", concurrency: bad })])).toEqual([
        { path: "/steps/0/concurrency", message: "concurrency must be an integer from 1 to 1000" },
      ]);
  });
});

describe("validateDefinition: if, for_each, on_error", () => {
  test("expressions are non-empty storable strings of bounded length", () => {
    expect(errorsOf([delay("a", { if: "input.go == true", on_error: "continue" }), delay("b", { on_error: "fail" })])).toEqual([]);
    const bad = [delay("a", { if: "" }), delay("b", { for_each: "  " }), delay("c", { if: 1 }), delay("d", { if: "a\u0000" })];
    expect(errorsOf(bad).map((e) => [e.path, e.message])).toEqual([
      ["/steps/0/if", "if must be a non-empty CEL expression"],
      ["/steps/1/for_each", "for_each must be a non-empty CEL expression"],
      ["/steps/2/if", "if must be a non-empty CEL expression"],
      ["/steps/3/if", "if must not contain NUL characters or unpaired UTF-16 surrogates"],
    ]);
    expect(errorsOf([delay("a", { for_each: "x".repeat(4097) })])).toEqual([
      { path: "/steps/0/for_each", message: "for_each must be at most 4096 characters long" },
    ]);
  });

  // These need the real CEL compiler behind compileExpression (the stub accepts everything).
  test("a malformed expression is an error at its field, with the compiler's message", () => {
    for (const [field, source] of [
      ["if", "input.a =="],
      ["if", "(("],
      ["for_each", "input.items["],
      ["for_each", "1 +* 2"],
    ] as const) {
      const errs = errorsOf([delay("a", { [field]: source })]);
      expect(errs.map((e) => e.path)).toEqual([`/steps/0/${field}`]);
      expect(errs[0]!.message.length).toBeGreaterThan(0);
    }
  });

  test("expressions read only the steps a step runs after; item and index only in the if of a for_each step", () => {
    const at = (steps: unknown[]) => errorsOf(steps).map((e) => [e.path, e.message]);
    expect(at([delay("a"), delay("b", { needs: [] }), delay("c", { needs: ["b"], if: 'steps.a.status == "completed"' })])).toEqual([
      ["/steps/2/if", 'if reads step "a", which this step does not need (directly or through the steps it needs)'],
    ]);
    expect(at([delay("a", { if: "steps.later.output == 1" }), delay("later")])).toEqual([
      ["/steps/0/if", 'if reads step "later", which does not run before this one'],
    ]);
    expect(at([delay("a", { for_each: "[index]" })])).toEqual([["/steps/0/for_each", "for_each yields the items; it cannot read index"]]);
    expect(at([delay("a", { if: "item == 1" })])).toEqual([["/steps/0/if", "if reads item, which only a step with for_each has"]]);
    expect(at([delay("a", { for_each: "[1, 2]", if: "index == 0" })])).toEqual([]);
  });

  test("on_error is fail or continue; unknown step and retry fields are errors", () => {
    expect(errorsOf([delay("a", { on_error: "ignore" })])).toEqual([
      { path: "/steps/0/on_error", message: "on_error must be one of fail, continue" },
    ]);
    expect(errorsOf([delay("a", { when: "x", retry: { max_attempts: 1, backoff_ms: 0, jitter: true } })])).toEqual([
      { path: "/steps/0/retry/jitter", message: 'unknown retry field "jitter"' },
      { path: "/steps/0/when", message: 'unknown step field "when"' },
    ]);
  });
});

describe("validateDefinition: workflow and wait_for_signal steps, long delays", () => {
  test("a workflow step names a workflow by id; its input is any JSON, with placeholders", () => {
    const child = (config: unknown) => ({ name: "child", type: "workflow", config });
    expect(errorsOf([delay("a"), child({ workflow_id: WORKFLOW_ID, input: { id: "{{steps.a.x}}", n: [1, null] } })])).toEqual([]);
    expect(errorsOf([child({ workflow_id: WORKFLOW_ID })])).toEqual([]);
    expect(errorsOf([child({ workflow_id: "{{input.wf}}", input: "{{steps.zz}}", extra: 1 })]).map((e) => e.path)).toEqual([
      "/steps/0/config/workflow_id",
      "/steps/0/config/extra",
      "/steps/0/config/input",
    ]);
    expect(errorsOf([child({})]).map((e) => e.path)).toEqual(["/steps/0/config/workflow_id"]);
  });

  test("wait_for_signal: a signal name and an optional timeout of at most 30 days", () => {
    const wait = (config: unknown) => ({ name: "w", type: "wait_for_signal", config });
    expect(errorsOf([wait({ signal: "approval" }), { ...wait({ signal: "a-1_B", timeout_ms: 2_592_000_000 }), name: "w2" }])).toEqual([]);
    expect(errorsOf([wait({ signal: "no spaces", timeout_ms: 2_592_000_001 })])).toEqual([
      { path: "/steps/0/config/signal", message: "signal must be 1-64 letters, digits, _ or -" },
      { path: "/steps/0/config/timeout_ms", message: "timeout_ms must be an integer from 1 to 2592000000 (30 days)" },
    ]);
    expect(errorsOf([wait({ signal: "x".repeat(65), timeout_ms: 0 })]).map((e) => e.path)).toEqual([
      "/steps/0/config/signal",
      "/steps/0/config/timeout_ms",
    ]);
  });

  test("a delay may last up to 30 days", () => {
    expect(errorsOf([{ name: "d", type: "delay", config: { ms: 2_592_000_000 } }])).toEqual([]);
    expect(errorsOf([{ name: "d", type: "delay", config: { ms: 2_592_000_001 } }])).toEqual([
      { path: "/steps/0/config/ms", message: "ms must be an integer from 0 to 2592000000 (30 days)" },
    ]);
  });

  test("childWorkflows lists the workflows a definition starts, and stepNeeds what each step waits for", () => {
    const steps = [delay("a"), { name: "c", type: "workflow", config: { workflow_id: WORKFLOW_ID.toUpperCase() }, needs: [] }, delay("b")];
    const def = { name: "n", steps } as WorkflowDefinition;
    expect(validateDefinition(def)).toEqual([]);
    expect(childWorkflows(def)).toEqual([{ path: "/steps/1/config/workflow_id", workflowId: WORKFLOW_ID }]);
    expect(def.steps.map((_, i) => stepNeeds(def.steps, i))).toEqual([[], [], ["c"]]);
  });
});

/** A definition of `n` delay steps whose needs are drawn from the earlier ones by `pick`. */
const graphArb = fc
  .integer({ min: 1, max: 12 })
  .chain((n) =>
    fc.tuple(
      fc.constant(n),
      fc.array(fc.option(fc.subarray(Array.from({ length: n }, (_, k) => k)), { nil: undefined }), { minLength: n, maxLength: n }),
    ),
  );

describe("validateDefinition: properties", () => {
  test("needs naming only earlier steps always validate, and placeholders may read every ancestor", () => {
    fc.assert(
      fc.property(graphArb, ([n, picks]) => {
        const steps: Array<Record<string, unknown>> = [];
        for (let i = 0; i < n; i++) {
          const needs = picks[i]?.filter((k) => k < i).map((k) => `s${k}`);
          steps.push({ name: `s${i}`, type: "delay", config: { ms: 1 }, ...(needs ? { needs } : {}) });
        }
        // Each step's ancestors, computed the slow way: what it needs (or the previous step), transitively.
        const ancestors = (i: number): Set<number> => {
          const direct = (steps[i]!.needs as string[] | undefined)?.map((s) => Number(s.slice(1))) ?? (i > 0 ? [i - 1] : []);
          return new Set(direct.flatMap((k) => [k, ...ancestors(k)]));
        };
        const withReads = steps.map((s, i) => ({
          ...s,
          type: "log",
          config: { message: [...ancestors(i)].map((k) => `{{steps.s${k}.x}}`).join(" ") },
        }));
        expect(validateDefinition({ name: "p", steps })).toEqual([]);
        expect(validateDefinition({ name: "p", steps: withReads })).toEqual([]);
      }),
    );
  });

  test("a need of a later step, or of the step itself, never validates, and the error names it", () => {
    fc.assert(
      fc.property(graphArb, fc.nat(), fc.nat(), ([n, picks], a, b) => {
        const i = a % n;
        const later = i + (b % (n - i));
        const steps = Array.from({ length: n }, (_, k) => ({
          name: `s${k}`,
          type: "delay",
          config: { ms: 1 },
          needs: (picks[k] ?? []).filter((x) => x < k).map((x) => `s${x}`),
        }));
        steps[i]!.needs = [...steps[i]!.needs, `s${later}`];
        const errs = validateDefinition({ name: "p", steps });
        expect(errs).toHaveLength(1);
        expect(errs[0]!.path).toBe(`/steps/${i}/needs/${steps[i]!.needs.length - 1}`);
        expect(errs[0]!.message).toContain(`"s${later}"`);
      }),
    );
  });

  test("a placeholder reading a step that is not an ancestor never validates", () => {
    fc.assert(
      fc.property(graphArb, fc.nat(), fc.nat(), ([n, picks], a, b) => {
        const steps = Array.from({ length: n }, (_, k) => ({
          name: `s${k}`,
          type: "log",
          config: { message: "" },
          needs: (picks[k] ?? []).filter((x) => x < k).map((x) => `s${x}`),
        }));
        const ancestors = (i: number): Set<number> =>
          new Set(steps[i]!.needs.flatMap((s) => [Number(s.slice(1)), ...ancestors(Number(s.slice(1)))]));
        const i = a % n;
        const outside = Array.from({ length: n }, (_, k) => k).filter((k) => !ancestors(i).has(k));
        const target = outside[b % outside.length]!; // never empty: the step itself is not its own ancestor
        steps[i]!.config.message = `{{steps.s${target}.output}}`;
        expect(validateDefinition({ name: "p", steps }).map((e) => e.path)).toEqual([`/steps/${i}/config/message`]);
      }),
    );
  });
});
