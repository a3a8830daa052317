import { describe, expect, test } from "bun:test";
import { validateDefinition } from "./definition.ts";

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
