import { describe, expect, test } from "bun:test";
import { validateDefinition } from "./definition.ts";
import { compileKey, flowControlProblems } from "./flow-control.ts";

const steps = [{ name: "a", type: "log", config: { message: "x" } }];
const paths = (extra: Record<string, unknown>) => validateDefinition({ name: "n", steps, ...extra }).map((e) => e.path);

describe("flow control: concurrency and timeout_ms", () => {
  test("a limit, with or without a key over the input, and a timeout are accepted", () => {
    expect(paths({ concurrency: { limit: 1 } })).toEqual([]);
    expect(paths({ concurrency: { limit: 10_000, key: "{{input.customer}}" } })).toEqual([]);
    expect(paths({ concurrency: { limit: 5, key: "tenant-{{ input.org.id }}/{{input.region}}" }, timeout_ms: 1 })).toEqual([]);
    expect(paths({ timeout_ms: 30 * 24 * 3_600_000 })).toEqual([]);
  });

  test("bad values are errors at their paths", () => {
    expect(paths({ concurrency: 5 })).toEqual(["/concurrency"]);
    expect(paths({ concurrency: { limit: 0 } })).toEqual(["/concurrency/limit"]);
    expect(paths({ concurrency: { limit: 10_001 } })).toEqual(["/concurrency/limit"]);
    expect(paths({ concurrency: { key: "{{input.a}}" } })).toEqual(["/concurrency/limit"]);
    expect(paths({ concurrency: { limit: 2, per: "x" } })).toEqual(["/concurrency/per"]);
    expect(paths({ concurrency: { limit: 2, key: " " } })).toEqual(["/concurrency/key"]);
    expect(paths({ concurrency: { limit: 2, key: "x".repeat(1001) } })).toEqual(["/concurrency/key"]);
    expect(paths({ timeout_ms: 0 })).toEqual(["/timeout_ms"]);
    expect(paths({ timeout_ms: 1.5 })).toEqual(["/timeout_ms"]);
    expect(paths({ timeout_ms: 30 * 24 * 3_600_000 + 1 })).toEqual(["/timeout_ms"]);
  });

  test("a key reads only the input: it is computed when the run is triggered", () => {
    expect(flowControlProblems({ concurrency: { limit: 1, key: "{{steps.a.output}}" } })).toEqual([
      { path: "/concurrency/key", message: "{{steps.a.output}}: a concurrency key may read only the run's input ({{input.<path>}})" },
    ]);
    for (const key of ["{{item}}", "{{index}}", "{{input.a b}}", "{{secrets.X}}"])
      expect(flowControlProblems({ concurrency: { limit: 1, key } }).map((e) => e.path)).toEqual(["/concurrency/key"]);
  });

  test("errors of the flow fields come with those of the steps", () => {
    expect(validateDefinition({ name: "n", steps: [], timeout_ms: -1 }).map((e) => e.path)).toEqual(["/timeout_ms", "/steps"]);
  });

  test("compileKey: literal text and input paths, in order", () => {
    expect(compileKey("{{input.customer}}")).toEqual([{ input: ["customer"] }]);
    expect(compileKey("t-{{ input.org.id }}/{{input}}!")).toEqual(["t-", { input: ["org", "id"] }, "/", { input: [] }, "!"]);
    expect(compileKey("constant")).toEqual(["constant"]);
  });
});
