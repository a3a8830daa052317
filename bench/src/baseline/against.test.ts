import { describe, expect, test } from "bun:test";
import { againstBaseline, setupDifferences } from "./against.ts";
import type { Baseline, TargetFigures } from "./baseline.ts";
import { changeText, figureName } from "./format.ts";

const figures = (over: Partial<TargetFigures> = {}): TargetFigures => ({
  throughput_rps: 10_000,
  p50_ms: 500,
  p99_ms: 1_000,
  failed: 0,
  api_cpu_us_per_request: 50,
  machine_cpu_us_per_request: 120,
  ...over,
});

const baseline = (over: Partial<Baseline> = {}): Baseline => ({
  about: "test",
  scenario: "10k",
  date: "2026-12-05T17:07:04.548Z",
  commit: "3a66c0d",
  machine: { cores: 2, memory_gib: 24, cpu_model: "AMD EPYC", os: "Linux", kernel: "6.18" },
  api_replicas: 2,
  users: 10_000,
  rounds: 3,
  targets: { bun: figures(), node: figures({ throughput_rps: 8_000 }) },
  bun_node_throughput_ratio: 1.25,
  ...over,
});

describe("againstBaseline", () => {
  test("gives each figure of each target, then Bun/Node, with this run's value, the baseline's and the change", () => {
    const rows = againstBaseline(baseline(), baseline());
    expect(rows.map(figureName)).toEqual([
      "Bun throughput (req/s)",
      "Bun p50 (ms)",
      "Bun p99 (ms)",
      "Bun failed requests",
      "Bun API CPU per request (µs)",
      "Bun machine CPU per request (µs)",
      "Node throughput (req/s)",
      "Node p50 (ms)",
      "Node p99 (ms)",
      "Node failed requests",
      "Node API CPU per request (µs)",
      "Node machine CPU per request (µs)",
      "Bun/Node throughput",
    ]);
    expect(rows.every((r) => r.changePct === 0 && r.direction === "same")).toBe(true);
    expect(rows[6]).toEqual({ figure: "Node throughput", unit: "req/s", now: 8_000, base: 8_000, changePct: 0, direction: "same" });
  });

  test("change is in percent of the baseline; worse is less throughput, more latency, failures or CPU", () => {
    const now = baseline({
      targets: { bun: figures({ throughput_rps: 9_000, p99_ms: 900, api_cpu_us_per_request: 55, machine_cpu_us_per_request: 114 }) },
      bun_node_throughput_ratio: 1.5,
    });
    const row = (figure: string) => againstBaseline(now, baseline()).find((r) => r.figure === figure)!;
    expect(row("Bun throughput")).toMatchObject({ now: 9_000, base: 10_000, changePct: -10, direction: "worse" });
    expect(row("Bun p99")).toMatchObject({ changePct: -10, direction: "better" });
    expect(row("Bun API CPU per request").changePct).toBeCloseTo(10);
    expect(row("Bun API CPU per request").direction).toBe("worse");
    expect(row("Bun machine CPU per request")).toMatchObject({ changePct: -5, direction: "better" });
    expect(row("Bun/Node throughput")).toMatchObject({ now: 1.5, base: 1.25, changePct: 20, direction: "better" });
  });

  test("failures where the baseline had none have no percentage, and are worse", () => {
    const [row] = againstBaseline(baseline({ targets: { bun: figures({ failed: 12 }) } }), baseline()).filter(
      (r) => r.figure === "Bun failed requests",
    );
    expect(row).toMatchObject({ now: 12, base: 0, changePct: null, direction: "worse" });
    expect(changeText(row!)).toBe("from 0");
  });

  test("leaves out what either side lacks: a target not run, CPU not recorded, a ratio of one target", () => {
    const { api_cpu_us_per_request: _a, machine_cpu_us_per_request: _m, ...noCpu } = figures();
    const now = baseline({ targets: { bun: figures() }, bun_node_throughput_ratio: null });
    const base = baseline({ targets: { bun: noCpu, node: figures() } });
    expect(againstBaseline(now, base).map((r) => r.figure)).toEqual(["Bun throughput", "Bun p50", "Bun p99", "Bun failed requests"]);
  });

  test("a hand-edited baseline without targets compares nothing, and does not throw", () => {
    const broken = { ...baseline(), targets: undefined } as unknown as Baseline;
    expect(againstBaseline(baseline(), broken).map((r) => r.figure)).toEqual(["Bun/Node throughput"]);
  });
});

describe("changeText", () => {
  const at = (changePct: number | null) => changeText({ figure: "f", unit: "ms", now: 0, base: 0, changePct, direction: "same" });
  test("a signed percentage with one decimal", () => {
    expect([at(12.345), at(-4.46), at(0), at(0.04), at(-0.04)]).toEqual(["+12.3%", "-4.5%", "0.0%", "0.0%", "0.0%"]);
  });
});

describe("setupDifferences", () => {
  test("names what differs in how the runs were made, and nothing when it is the same", () => {
    expect(setupDifferences(baseline(), baseline())).toEqual([]);
    const now = baseline({
      api_replicas: 1,
      users: 1_000,
      machine: { cores: 4, memory_gib: 24, cpu_model: "AMD EPYC", os: "Linux", kernel: "6.18" },
    });
    expect(setupDifferences(now, baseline())).toEqual([
      "users 1,000 here, 10,000 in the baseline",
      "API replicas 1 here, 2 in the baseline",
      "machine 4 cores, 24 GiB, AMD EPYC here, 2 cores, 24 GiB, AMD EPYC in the baseline",
    ]);
  });
});
