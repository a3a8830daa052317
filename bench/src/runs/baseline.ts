import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { type BaselineRow, compareFigure } from "../baseline/against.ts";
import { baselinePath } from "../baseline/file.ts";
import type { RunsResults } from "./results.ts";

/** bench/baselines/runs.json: the headline figures of one `bench:runs`, for later runs to be compared with. */
export interface RunsBaseline {
  about: string;
  scenario: "runs";
  date: string;
  commit: string | null;
  machine: RunsResults["machine"];
  figures: Record<string, { value: number; unit: string; higherIsBetter: boolean }>;
}

/** The figures a regression would show in first: latency one at a time, throughput, the knee. */
export function runsFigures(r: RunsResults): RunsBaseline["figures"] {
  const f: RunsBaseline["figures"] = {};
  const put = (name: string, value: number | null | undefined, unit: string, higherIsBetter: boolean) => {
    if (typeof value === "number" && Number.isFinite(value)) f[name] = { value, unit, higherIsBetter };
  };
  for (const s of r.sequential) {
    put(`${s.shape} one at a time, trigger → complete p50`, s.service_complete.p50_ms, "ms", false);
    put(`${s.shape} one at a time, trigger → complete p99`, s.service_complete.p99_ms, "ms", false);
    put(`${s.shape} one at a time, as the client sees it, p50`, s.client_complete.p50_ms, "ms", false);
  }
  for (const l of r.load.filter((x) => x.mode === "closed"))
    put(`${l.shape} closed loop (c${l.concurrency}) runs/s`, l.completed_rps, "runs/s", true);
  for (const [shape, knee] of Object.entries(r.knee)) put(`${shape} knee (offered runs/s)`, knee, "runs/s", true);
  for (const c of r.ceiling) put(`pgbench insert+update tps (${c.via})`, c.tps, "tps", true);
  return f;
}

export function toBaseline(r: RunsResults): RunsBaseline {
  return {
    about: "Headline figures of one `bun run bench:runs`, for later runs to be compared with. Written with --write-baseline.",
    scenario: "runs",
    date: r.started_at,
    commit: r.commit ?? null,
    machine: r.machine,
    figures: runsFigures(r),
  };
}

export function readRunsBaseline(): RunsBaseline | undefined {
  const path = baselinePath("runs");
  if (!existsSync(path)) return undefined;
  try {
    const b = JSON.parse(readFileSync(path, "utf8")) as RunsBaseline;
    return b.scenario === "runs" && typeof b.figures === "object" ? b : undefined;
  } catch {
    return undefined;
  }
}

export function writeRunsBaseline(r: RunsResults): string {
  const path = baselinePath("runs");
  writeFileSync(path, `${JSON.stringify(toBaseline(r), null, 2)}\n`);
  return path;
}

/** This run's figures against the baseline's, where both have them. */
export function againstRunsBaseline(r: RunsResults, base: RunsBaseline): BaselineRow[] {
  const rows: BaselineRow[] = [];
  for (const [name, now] of Object.entries(runsFigures(r))) {
    const b = base.figures[name];
    if (b) rows.push(compareFigure(name, now.unit, now.higherIsBetter, now.value, b.value));
  }
  return rows;
}
