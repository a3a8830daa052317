/**
 * A baseline: the headline figures of one bench run of a scenario, kept in
 * bench/baselines/<scenario>.json so that later runs show how far they moved from it. Small on
 * purpose: the run's whole results.json stays out of the tree.
 */
import { cpuFigures } from "../report/cpu-figures.ts";
import { type Figure, headlineFigures } from "../report/figures.ts";
import type { Baseline, BenchResults, Target, TargetFigures } from "../results.ts";

export type { Baseline, TargetFigures };

export const BASELINE_ABOUT =
  "Headline figures of one bench run (medians of its rounds; failed requests summed over them), for later runs of the scenario to be compared with. Written by bench/src/baseline/cli.ts.";

const r2 = (v: number) => Math.round(v * 100) / 100;
const finite = (v: number): number | undefined => (Number.isFinite(v) ? r2(v) : undefined);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** The median of one target from a figure, when that target has rounds. */
const medianOf = (f: Figure | undefined, t: Target) => (f ? finite(t === "bun" ? f.bunMedian : f.nodeMedian) : undefined);

/**
 * The baseline of a run's results. `commit` names the commit the run measured when the results
 * do not (results of benches before it was recorded).
 */
export function extractBaseline(results: BenchResults, commit?: string): Baseline {
  const flow = results.flow ?? [];
  const head = headlineFigures(flow);
  const cpu = cpuFigures(flow);
  const get = (figs: Figure[], metric: string) => figs.find((f) => f.metric === metric);
  const [throughput, p50, p99] = [get(head, "Throughput, all requests"), get(head, "Latency p50"), get(head, "Latency p99")];
  const [apiCpu, machineCpu] = [get(cpu, "API CPU per request"), get(cpu, "Machine CPU per request")];
  const targets: Partial<Record<Target, TargetFigures>> = {};
  for (const t of ["bun", "node"] as const) {
    const runs = flow.filter((f) => f.target === t);
    if (runs.length === 0) continue;
    const api = medianOf(apiCpu, t);
    const machine = medianOf(machineCpu, t);
    targets[t] = {
      throughput_rps: medianOf(throughput, t)!,
      p50_ms: medianOf(p50, t)!,
      p99_ms: medianOf(p99, t)!,
      failed: runs.reduce((sum, f) => sum + f.failed, 0),
      ...(api !== undefined && { api_cpu_us_per_request: api }),
      ...(machine !== undefined && { machine_cpu_us_per_request: machine }),
    };
  }
  const users = [...new Set(flow.map((f) => f.users))];
  return {
    about: BASELINE_ABOUT,
    scenario: results.scenario,
    date: results.started_at,
    commit: commit ?? results.commit ?? null,
    machine: results.machine,
    api_replicas: num(results.config?.api_replicas),
    users: users.length === 1 ? users[0]! : null,
    rounds: num(results.config?.rounds),
    targets,
    bun_node_throughput_ratio: throughput ? (finite(throughput.ratio) ?? null) : null,
  };
}
