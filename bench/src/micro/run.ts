import { mkdir } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, release, totalmem, type } from "node:os";
import { join } from "node:path";
import { bench, group, run, summary } from "mitata";
import { COMPARED_GROUPS, type MicroCase, microCases } from "./cases.ts";

export interface MicroResult {
  group: string;
  name: string;
  /** Nanoseconds per call. */
  avg_ns: number;
  p75_ns: number;
  p99_ns: number;
  min_ns: number;
  max_ns: number;
  /** Samples mitata took (a sample may batch many calls). */
  samples: number;
}

export interface MicroSummary {
  started_at: string;
  finished_at: string;
  machine: {
    cores: number;
    memory_gib: number;
    cpu_model: string;
    os: string;
    kernel: string;
    load_avg_1m_at_start: number;
    /** Share of the CPUs busy with other work during the second before the run. */
    cpu_busy_pct_at_start: number;
  };
  versions: Record<string, string>;
  benchmarks: MicroResult[];
}

export const RESULTS_DIR = join(import.meta.dir, "../../results");

const round = (v: number) => Math.round(v * 100) / 100;

/**
 * Runs the micro benchmarks (those whose group or name matches `filter`) with mitata, printing its
 * report when `print`, and writes a JSON summary to `<outDir>/micro-<timestamp>.json` unless
 * outDir is null.
 */
export async function runMicro(
  opts: { filter?: RegExp; print?: boolean; outDir?: string | null } = {},
): Promise<{ summary: MicroSummary; file?: string }> {
  const started = new Date();
  // Other work on the machine shows up as noise in every figure: say so rather than hide it.
  const load = Math.round(loadavg()[0]! * 100) / 100;
  const cores = availableParallelism();
  const busy = await cpuBusyPct(1000);
  if (opts.print && busy > 20)
    console.warn(
      `bench:micro: the CPUs were ${busy}% busy with other work just before this run: these figures will be noisy; rerun when the machine is idle.`,
    );
  const all = microCases();
  const chosen = opts.filter ? all.filter((c) => opts.filter!.test(c.name) || opts.filter!.test(c.group)) : all;
  if (chosen.length === 0) throw new Error(`no micro benchmark matches ${opts.filter}; there are: ${all.map((c) => c.name).join(", ")}`);
  for (const c of chosen)
    if (!c.check(await c.fn()))
      throw new Error(`micro benchmark "${c.name}" no longer returns what it should: fix the case before measuring it`);

  const groups = [...new Set(chosen.map((c) => c.group))];
  const byName = new Map<string, MicroCase>();
  for (const g of groups) {
    const mine = chosen.filter((c) => c.group === g);
    const register = () => {
      for (const c of mine) {
        byName.set(c.name, c);
        bench(c.name, c.fn);
      }
    };
    group(g, () => (COMPARED_GROUPS.has(g) && mine.length > 1 ? summary(register) : register()));
  }
  const out = await run({ format: opts.print ? "mitata" : "quiet", colors: !!opts.print && !!process.stdout.isTTY, throw: true });

  const benchmarks: MicroResult[] = [];
  for (const trial of out.benchmarks) {
    const r = trial.runs[0];
    const c = byName.get(trial.alias);
    if (!r?.stats || !c) continue;
    benchmarks.push({
      group: c.group,
      name: c.name,
      avg_ns: round(r.stats.avg),
      p75_ns: round(r.stats.p75),
      p99_ns: round(r.stats.p99),
      min_ns: round(r.stats.min),
      max_ns: round(r.stats.max),
      samples: r.stats.samples.length,
    });
  }
  const result: MicroSummary = {
    started_at: started.toISOString(),
    finished_at: new Date().toISOString(),
    machine: {
      cores,
      memory_gib: Math.round(totalmem() / 2 ** 30),
      cpu_model: cpus()[0]?.model ?? "unknown",
      os: type(),
      kernel: release(),
      load_avg_1m_at_start: load,
      cpu_busy_pct_at_start: busy,
    },
    versions: { bun: Bun.version, mitata: await version("mitata"), elysia: await version("elysia") },
    benchmarks,
  };
  if (opts.outDir === null) return { summary: result };
  const dir = opts.outDir ?? RESULTS_DIR;
  await mkdir(dir, { recursive: true });
  const file = join(dir, `micro-${started.toISOString().replace(/[:.]/g, "-")}.json`);
  await Bun.write(file, `${JSON.stringify(result, null, 2)}\n`);
  return { summary: result, file };
}

/** Percentage of CPU time (all cores) not idle during `ms` milliseconds. */
async function cpuBusyPct(ms: number): Promise<number> {
  const sample = () =>
    cpus().reduce((a, c) => ({ idle: a.idle + c.times.idle, total: a.total + Object.values(c.times).reduce((x, y) => x + y, 0) }), {
      idle: 0,
      total: 0,
    });
  const a = sample();
  await Bun.sleep(ms);
  const b = sample();
  const total = b.total - a.total;
  return total > 0 ? Math.round((100 * (total - (b.idle - a.idle))) / total) : 0;
}

async function version(pkg: string): Promise<string> {
  try {
    const main = Bun.resolveSync(pkg, import.meta.dir);
    // Walk up from the entry point to the package's own package.json.
    let dir = main;
    for (let i = 0; i < 5; i++) {
      dir = join(dir, "..");
      const f = Bun.file(join(dir, "package.json"));
      if (await f.exists()) {
        const j = (await f.json()) as { name?: string; version?: string };
        if (j.name === pkg) return j.version ?? "unknown";
      }
    }
  } catch {}
  return "unknown";
}
