import { describe, expect, test } from "bun:test";
import { FormatRegistry, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { validateDefinition } from "@wf/core/workflows";
import fc from "fast-check";
import { STRING_FORMATS } from "./formats.ts";
import { discriminatedUnion } from "./types.ts";
import { workflowInputErrors } from "./workflow-errors.ts";
import { WorkflowInput } from "./workflows.ts";

for (const [name, check] of Object.entries(STRING_FORMATS)) FormatRegistry.Set(name, check);
const schema = TypeCompiler.Compile(WorkflowInput);
const UUID = "0196c2a8-7c1e-7d43-9a6b-3f0e2b1c4d5e";

// Values near the edges of what each field accepts, valid and not.
const text = fc.constantFrom(
  "",
  "a",
  "{{input.x}}",
  "{{steps.a.x}}",
  "{{item.id}}",
  "{{index}}",
  "{{nope}}",
  "http://example.test/x",
  "x y",
  UUID,
);
const json = fc.oneof(
  text,
  fc.constantFrom(0, -1, 1.5, 60_000, 2_592_000_001, true, null),
  fc.constant({ k: "{{input.x}}" }),
  fc.constant([1]),
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });
const ms = fc.constantFrom(0, 1, -1, 1.5, 60_000, 60_001, 3_600_001, 2_592_000_000, 2_592_000_001, "5");

const configs: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  http: fc.record(
    {
      method: fc.constantFrom("GET", "POST", "get", 1),
      url: text,
      headers: maybe(fc.constantFrom({ a: "b" }, { a: 1 }, [])),
      body: maybe(json),
      timeout_ms: maybe(ms),
    },
    { requiredKeys: [] },
  ),
  delay: fc.record({ ms }, { requiredKeys: [] }),
  transform: fc.record({ output: json }, { requiredKeys: [] }),
  log: fc.record({ message: fc.oneof(text, fc.constant(1)), level: maybe(fc.constantFrom("info", "error", "loud")) }, { requiredKeys: [] }),
  workflow: fc.record({ workflow_id: fc.constantFrom(UUID, "not-a-uuid", 7), input: maybe(json) }, { requiredKeys: [] }),
  wait_for_signal: fc.record(
    { signal: fc.constantFrom("approval", "a b", "", "x".repeat(65), 3), timeout_ms: maybe(ms) },
    { requiredKeys: [] },
  ),
};

const step = fc
  .record({
    name: fc.constantFrom("b", "b b", ""),
    type: fc.constantFrom(...Object.keys(configs), "shell"),
    retry: maybe(
      fc.constantFrom({ max_attempts: 2, backoff_ms: 0 }, { max_attempts: 0, backoff_ms: 0 }, { max_attempts: 1, backoff_ms: 1, x: 1 }),
    ),
    needs: maybe(fc.constantFrom([], ["a"], ["a", "a"], ["b"], ["zz"], "a", [1])),
    if: maybe(fc.constantFrom("input.ok", "", 1)),
    for_each: maybe(fc.constantFrom("input.items", "")),
    concurrency: maybe(fc.constantFrom(1, 10, 0, 1001, 2.5)),
    on_error: maybe(fc.constantFrom("fail", "continue", "ignore")),
    extra: maybe(fc.constant(1)),
  })
  .chain((s) =>
    (configs[s.type] ?? configs.log!).map((config) =>
      Object.fromEntries(Object.entries({ ...s, config }).filter(([, v]) => v !== undefined)),
    ),
  );

/** A definition whose second step is the generated one (the first gives `needs` an earlier step). */
const definition = (s: Record<string, unknown>) => ({ name: "n", steps: [{ name: "a", type: "delay", config: { ms: 1 } }, s] });

describe("the step schema and the core's validator", () => {
  test("the schema is never stricter than the core, and what it refuses in a step the core names in that step", () => {
    fc.assert(
      fc.property(step, (s) => {
        const def = definition(s);
        const schemaOk = schema.Check(def);
        const core = validateDefinition(def);
        if (core.length === 0) expect(schemaOk).toBe(true);
        if (!schemaOk) {
          expect(core.filter((e) => e.path.startsWith("/steps/1")).length).toBeGreaterThan(0);
          // So a union's vague error is always replaced by the core's precise ones.
          const answered = workflowInputErrors(def, [{ path: "/steps/1", message: "Expected union value" }]);
          expect(answered.every((e) => e.path.startsWith("/steps/1") && e.message !== "Expected union value")).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  test("every v2 field and step type is accepted by both", () => {
    const def = {
      name: "v2",
      steps: [
        { name: "a", type: "delay", config: { ms: 2_592_000_000 }, needs: [] },
        { name: "b", type: "log", config: { message: "{{item.id}} {{index}}" }, for_each: "input.items", concurrency: 5, needs: ["a"] },
        { name: "c", type: "workflow", config: { workflow_id: UUID, input: { x: "{{steps.b}}" } }, if: "true", on_error: "continue" },
        {
          name: "d",
          type: "wait_for_signal",
          config: { signal: "approval", timeout_ms: 1000 },
          retry: { max_attempts: 2, backoff_ms: 10 },
        },
      ],
    };
    expect([schema.Check(def), validateDefinition(def)]).toEqual([true, []]);
  });

  test("errors outside the steps stay the schema's; inside, the core's replace them", () => {
    const def = { name: 5, steps: [{ name: "a", type: "log", config: {} }] };
    expect(
      workflowInputErrors(def, [
        { path: "/name", message: "Expected string" },
        { path: "/steps/0", message: "Expected union value" },
      ]),
    ).toEqual([
      { path: "/name", message: "Expected string" },
      { path: "/steps/0/config/message", message: "message must be a string" },
    ]);
    const plain = [{ path: "/description", message: "Expected string" }];
    expect(workflowInputErrors({ name: "x", steps: [], description: 1 }, plain)).toEqual(plain);
  });
});

describe("discriminatedUnion", () => {
  test("maps each value of the property to its variant's component", () => {
    const u = discriminatedUnion(
      "kind",
      [Type.Object({ kind: Type.Literal("a"), n: Type.Number() }), Type.Object({ kind: Type.Literal("b") })],
      (v) => `thing.${v}`,
    );
    expect(u.discriminator).toEqual({
      propertyName: "kind",
      mapping: { a: "#/components/schemas/thing.a", b: "#/components/schemas/thing.b" },
    });
    expect(u.anyOf).toHaveLength(2);
  });

  test("refuses variants that do not each require their own value", () => {
    const a = Type.Object({ kind: Type.Literal("a") });
    expect(() => discriminatedUnion("kind", [a, a], String)).toThrow();
    expect(() => discriminatedUnion("kind", [Type.Object({ kind: Type.Optional(Type.Literal("a")) })], String)).toThrow();
    expect(() => discriminatedUnion("kind", [Type.Object({ kind: Type.String() })], String)).toThrow();
  });
});
