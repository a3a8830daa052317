/** This run's headline figures against its scenario's baseline: each figure, both values, and the change. */
import type { Target } from "../results.ts";
import type { Baseline, TargetFigures } from "./baseline.ts";

/** Which way a figure moved: throughput up, or latency, failures or CPU down, is better. */
export type Direction = "better" | "worse" | "same";

export interface BaselineRow {
  figure: string;
  unit: string;
  now: number;
  base: number;
  /** (now − base) / base, in percent; null when the baseline is 0 and this run is not. */
  changePct: number | null;
  direction: Direction;
}

const LABEL: Record<Target, string> = { bun: "Bun", node: "Node" };

/** Per target: the figure's name, unit, whether higher is better, and where a baseline keeps it. */
const TARGET_FIGURES: Array<[name: string, unit: string, higherIsBetter: boolean, key: keyof TargetFigures]> = [
  ["throughput", "req/s", true, "throughput_rps"],
  ["p50", "ms", false, "p50_ms"],
  ["p99", "ms", false, "p99_ms"],
  ["failed requests", "count", false, "failed"],
  ["API CPU per request", "µs", false, "api_cpu_us_per_request"],
  ["machine CPU per request", "µs", false, "machine_cpu_us_per_request"],
];

const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** One figure against its baseline value; shared by every bench that keeps a baseline. */
export function compareFigure(figure: string, unit: string, higherIsBetter: boolean, now: number, base: number): BaselineRow {
  const changePct = base === 0 ? (now === 0 ? 0 : null) : ((now - base) / Math.abs(base)) * 100;
  // "same" only where the change would show as 0.0 %: no threshold of noise is claimed here.
  const moved = changePct === null || Math.abs(changePct) >= 0.05;
  const up = now > base;
  const direction: Direction = !moved ? "same" : up === higherIsBetter ? "better" : "worse";
  return { figure, unit, now, base, changePct, direction };
}

/**
 * Each headline figure both this run and the baseline have, in the order the report gives them:
 * Bun's, then Node's, then their ratio. A figure either side lacks (a target not run, CPU not
 * recorded, a baseline edited by hand) is left out rather than compared with nothing.
 */
export function againstBaseline(now: Baseline, base: Baseline): BaselineRow[] {
  const rows: BaselineRow[] = [];
  for (const t of ["bun", "node"] as const) {
    const [n, b] = [now.targets[t], base.targets?.[t]];
    if (!n || !b) continue;
    for (const [name, unit, higher, key] of TARGET_FIGURES) {
      const [x, y] = [n[key], b[key]];
      if (finite(x) && finite(y)) rows.push(compareFigure(`${LABEL[t]} ${name}`, unit, higher, x, y));
    }
  }
  if (finite(now.bun_node_throughput_ratio) && finite(base.bun_node_throughput_ratio))
    rows.push(compareFigure("Bun/Node throughput", "×", true, now.bun_node_throughput_ratio, base.bun_node_throughput_ratio));
  return rows;
}

/**
 * What differs in how the two runs were made (users, rounds, replicas, machine): where something
 * does, a change in the figures may be that and not the code.
 */
export function setupDifferences(now: Baseline, base: Baseline): string[] {
  const out: string[] = [];
  const shown = (v: unknown) => (typeof v === "number" ? v.toLocaleString("en-US") : String(v ?? "unknown"));
  const differ = (what: string, a: unknown, b: unknown) => {
    if (a !== b) out.push(`${what} ${shown(a)} here, ${shown(b)} in the baseline`);
  };
  differ("users", now.users, base.users);
  differ("rounds", now.rounds, base.rounds);
  differ("API replicas", now.api_replicas, base.api_replicas);
  const machine = (m: Baseline["machine"] | undefined) => (m ? `${m.cores} cores, ${m.memory_gib} GiB, ${m.cpu_model}` : undefined);
  differ("machine", machine(now.machine), machine(base.machine));
  return out;
}
