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

/** Turns oha's JSON into an OhaRun; throws on output that is not oha's summary. */
export function parseOha(
  json: string,
  meta: Pick<OhaRun, "target" | "round" | "endpoint" | "method" | "concurrency" | "duration_s">,
): OhaRun {
  const o = JSON.parse(json) as OhaJson;
  if (!o.summary || typeof o.summary.requestsPerSec !== "number" || !o.latencyPercentiles)
    throw new Error("not oha JSON output: summary.requestsPerSec or latencyPercentiles is missing");
  const codes = o.statusCodeDistribution ?? {};
  // Requests still in flight when the fixed duration ends are cut by oha itself ("aborted due to
  // deadline"): an artifact of -z, not an answer of the server, so not counted as errors.
  const errors = Object.fromEntries(Object.entries(o.errorDistribution ?? {}).filter(([k]) => !k.includes("deadline")));
  const requests = Object.values(codes).reduce((a, b) => a + b, 0) + Object.values(errors).reduce((a, b) => a + b, 0);
  // oha's own successRate counts every HTTP answer, a 404 or a 500 included: the report's success
  // is the share answered 2xx.
  const ok = Object.entries(codes).reduce((a, [code, n]) => (code.startsWith("2") ? a + n : a), 0);
  return {
    ...meta,
    requests,
    rps: Math.round(o.summary.requestsPerSec * 10) / 10,
    success_rate: requests > 0 ? ok / requests : 0,
    p50_ms: ms(o.latencyPercentiles.p50),
    p90_ms: ms(o.latencyPercentiles.p90),
    p95_ms: ms(o.latencyPercentiles.p95),
    p99_ms: ms(o.latencyPercentiles.p99),
    max_ms: ms(o.summary.slowest),
    status_codes: codes,
    errors,
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
