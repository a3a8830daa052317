import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { OhaRun, Target } from "../results.ts";

/** Where oha is: on PATH, or where `cargo install` puts it. */
export function findOha(): string | undefined {
  const onPath = Bun.which("oha");
  if (onPath) return onPath;
  const cargo = join(process.env.CARGO_HOME ?? join(homedir(), ".cargo"), "bin", "oha");
  return existsSync(cargo) ? cargo : undefined;
}

/** Finds oha, installing it with `cargo install oha --locked` when missing; throws with what to do. */
export async function ensureOha(log: (line: string) => void): Promise<string> {
  const found = findOha();
  if (found) return found;
  const cargo = Bun.which("cargo") ?? join(homedir(), ".cargo", "bin", "cargo");
  if (!existsSync(cargo)) throw new Error("oha is not installed and cargo is missing: install Rust (rustup) or oha, then rerun");
  log("[bench] installing oha (cargo install oha --locked); this compiles for a few minutes, once");
  const p = Bun.spawn([cargo, "install", "oha", "--locked"], { stdout: "inherit", stderr: "inherit" });
  if ((await p.exited) !== 0) throw new Error("cargo install oha --locked failed (see above)");
  const now = findOha();
  if (!now) throw new Error("cargo install oha finished but no oha binary was found in ~/.cargo/bin");
  return now;
}

/** The parts of oha's JSON output (`--output-format json`) that the report uses; times in seconds. */
interface OhaJson {
  summary: { total: number; slowest: number; fastest: number; average: number; requestsPerSec: number };
  latencyPercentiles: Record<string, number | null>;
  statusCodeDistribution: Record<string, number>;
  errorDistribution: Record<string, number>;
}

const ms = (s: number | null | undefined) => Math.round((s ?? 0) * 1000 * 100) / 100;

/** oha's JSON output read once, for every bench that runs oha. Latencies in ms. */
export interface OhaSummary {
  elapsed_s: number;
  requests_per_s: number;
  status_codes: Record<string, number>;
  /** oha's errors, without the requests it cut at the deadline. */
  errors: Record<string, number>;
  /** Requests still in flight when `-z` ended, cut by oha itself ("aborted due to deadline"). */
  cut_at_deadline: number;
  /** Answers and errors: every request but those cut at the deadline. */
  requests: number;
  /** 2xx answers (oha's own successRate counts a 404 or a 500 as a success). */
  ok: number;
  p50_ms: number;
  p90_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
}

/** Reads oha's JSON; throws on output that is not oha's summary. */
export function readOha(json: string): OhaSummary {
  const o = JSON.parse(json) as OhaJson;
  if (!o.summary || typeof o.summary.requestsPerSec !== "number" || !o.latencyPercentiles)
    throw new Error("not oha's JSON output: summary.requestsPerSec or latencyPercentiles is missing");
  const codes = o.statusCodeDistribution ?? {};
  // Requests still in flight when the fixed duration ends are an artifact of -z, not an answer of
  // the server, so not counted as errors.
  const errors: Record<string, number> = {};
  let cut = 0;
  for (const [k, n] of Object.entries(o.errorDistribution ?? {})) {
    if (k.includes("deadline")) cut += n;
    else errors[k] = n;
  }
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  return {
    elapsed_s: o.summary.total,
    requests_per_s: o.summary.requestsPerSec,
    status_codes: codes,
    errors,
    cut_at_deadline: cut,
    requests: sum(codes) + sum(errors),
    ok: Object.entries(codes).reduce((a, [code, n]) => (code.startsWith("2") ? a + n : a), 0),
    p50_ms: ms(o.latencyPercentiles.p50),
    p90_ms: ms(o.latencyPercentiles.p90),
    p95_ms: ms(o.latencyPercentiles.p95),
    p99_ms: ms(o.latencyPercentiles.p99),
    max_ms: ms(o.summary.slowest),
  };
}

/** Turns oha's JSON into an OhaRun; throws on output that is not oha's summary. */
export function parseOha(
  json: string,
  meta: Pick<OhaRun, "target" | "round" | "endpoint" | "method" | "concurrency" | "duration_s">,
): OhaRun {
  const o = readOha(json);
  return {
    ...meta,
    requests: o.requests,
    rps: Math.round(o.requests_per_s * 10) / 10,
    success_rate: o.requests > 0 ? o.ok / o.requests : 0,
    p50_ms: o.p50_ms,
    p90_ms: o.p90_ms,
    p95_ms: o.p95_ms,
    p99_ms: o.p99_ms,
    max_ms: o.max_ms,
    status_codes: o.status_codes,
    errors: o.errors,
  };
}

export interface OhaEndpoint {
  /** The path as the report shows it, without the method (the report puts `method` before it). */
  name: string;
  method: "GET" | "POST";
  path: string;
  body?: string;
}

/** One fixed-duration, fixed-concurrency oha run against one endpoint. */
export async function runOha(
  oha: string,
  base: string,
  ep: OhaEndpoint,
  o: { target: Target; round: number; concurrency: number; durationS: number },
): Promise<OhaRun> {
  const args = [oha, "--no-tui", "--output-format", "json", "-z", `${o.durationS}s`, "-c", String(o.concurrency), "-m", ep.method];
  if (ep.body !== undefined) args.push("-H", "content-type: application/json", "-d", ep.body);
  args.push(`${base}${ep.path}`);
  const p = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`oha exited ${code} for ${ep.method} ${ep.name}: ${err.trim()}`);
  return parseOha(out, {
    target: o.target,
    round: o.round,
    endpoint: ep.name,
    method: ep.method,
    concurrency: o.concurrency,
    duration_s: o.durationS,
  });
}
