import { describe, expect, test } from "bun:test";
import { sampleResults } from "../report/sample.ts";
import type { FlowRun, Target } from "../results.ts";
import { extractBaseline } from "./baseline.ts";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const r2 = (v: number) => Math.round(v * 100) / 100;

describe("extractBaseline", () => {
  const results = sampleResults();
  const of = (t: Target) => results.flow.filter((f) => f.target === t).sort((a, b) => a.round - b.round);
  const machineUs = (f: FlowRun) => ((f.cpu!.api_s + f.cpu!.workers_s + f.cpu!.runner_s + f.cpu!.rest_s) * 1e6) / f.requests;

  test("keeps each target's medians of rounds, its failed requests summed, and the run's identity", () => {
    const b = extractBaseline(results, "abc1234");
    expect(b).toMatchObject({
      scenario: "10k",
      date: results.started_at,
      commit: "abc1234",
      machine: results.machine,
      api_replicas: 2,
      users: 10_000,
      rounds: 3,
    });
    for (const t of ["bun", "node"] as const) {
      const runs = of(t);
      expect(b.targets[t]).toEqual({
        throughput_rps: r2(median(runs.map((f) => f.throughput_rps))),
        p50_ms: r2(median(runs.map((f) => f.overall.p50_ms))),
        p99_ms: r2(median(runs.map((f) => f.overall.p99_ms))),
        failed: runs.reduce((a, f) => a + f.failed, 0),
        api_cpu_us_per_request: r2(median(runs.map((f) => f.cpu!.api_us_per_request))),
        machine_cpu_us_per_request: r2(median(runs.map(machineUs))),
      });
    }
    expect(b.targets.node!.failed).toBeGreaterThan(0);
  });

  test("gives Bun/Node as the median ratio of rounds paired in order, as the report does", () => {
    const ratios = of("bun").map((f, i) => f.throughput_rps / of("node")[i]!.throughput_rps);
    expect(extractBaseline(results).bun_node_throughput_ratio).toBe(r2(median(ratios)));
  });

  test("takes the commit from the results unless one is given; null when neither says", () => {
    expect(extractBaseline(results).commit).toBeNull();
    const recorded = { ...sampleResults(), commit: "def5678" };
    expect(extractBaseline(recorded).commit).toBe("def5678");
    expect(extractBaseline(recorded, "abc1234").commit).toBe("abc1234");
  });

  test("a run without CPU figures leaves them out; one target alone has no ratio", () => {
    const old = sampleResults();
    old.flow = old.flow.filter((f) => f.target === "bun").map(({ cpu: _, ...f }) => f);
    const b = extractBaseline(old);
    expect(Object.keys(b.targets)).toEqual(["bun"]);
    expect(b.targets.bun).not.toHaveProperty("api_cpu_us_per_request");
    expect(b.targets.bun).not.toHaveProperty("machine_cpu_us_per_request");
    expect(b.bun_node_throughput_ratio).toBeNull();
  });

  test("stays small: the headline figures only, under 2 KB of JSON", () => {
    expect(JSON.stringify(extractBaseline(results), null, 2).length).toBeLessThan(2_000);
  });
});
