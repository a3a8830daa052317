/**
 * oha against a peer's synchronous trigger: every request starts one run and is answered once that
 * run has completed, so oha's latency is trigger -> complete and its 2xx answers are completed runs.
 */
import { findOha } from "../../oha/oha.ts";
import type { Peer } from "./peer.ts";

export interface OhaLoad {
  rate: number;
  seconds: number;
  connections: number;
}

export interface OhaResult {
  /** The command as run, for the report. */
  command: string;
  /** oha's elapsed time, s. */
  elapsed_s: number;
  /** Requests that ended with an answer or an error (not those cut at the deadline). */
  requests: number;
  /** 2xx answers: runs that completed. */
  completed: number;
  completed_per_s: number;
  /** Answers other than 2xx, by status, and oha's errors other than the requests cut at the deadline. */
  failures: Record<string, number>;
  /** Requests still running when the duration ended, cut by oha itself (-z): not failures of the peer. */
  cut_at_deadline: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
}

/** What this module reads of `oha --output-format json` (times in seconds), as oha 1.16 writes it. */
interface OhaJson {
  summary: { total: number; slowest: number | null; requestsPerSec: number };
  latencyPercentiles: Record<string, number | null>;
  statusCodeDistribution: Record<string, number>;
  errorDistribution: Record<string, number>;
}

const ms = (s: number | null | undefined) => Math.round((s ?? 0) * 100_000) / 100;

export function parseOhaJson(text: string, command: string): OhaResult {
  const o = JSON.parse(text) as OhaJson;
  if (!o.summary || typeof o.summary.total !== "number" || !o.latencyPercentiles)
    throw new Error("not oha's JSON output: summary.total or latencyPercentiles is missing");
  const codes = o.statusCodeDistribution ?? {};
  const failures: Record<string, number> = {};
  let completed = 0;
  for (const [code, n] of Object.entries(codes)) {
    if (code.startsWith("2")) completed += n;
    else failures[`http_${code}`] = n;
  }
  let answered = completed + Object.values(failures).reduce((a, b) => a + b, 0);
  let cut = 0;
  for (const [error, n] of Object.entries(o.errorDistribution ?? {})) {
    if (error.includes("deadline")) cut += n;
    else {
      failures[error] = n;
      answered += n;
    }
  }
  return {
    command,
    elapsed_s: Math.round(o.summary.total * 1000) / 1000,
    requests: answered,
    completed,
    completed_per_s: o.summary.total > 0 ? Math.round((completed / o.summary.total) * 10) / 10 : 0,
    failures,
    cut_at_deadline: cut,
    p50_ms: ms(o.latencyPercentiles.p50),
    p90_ms: ms(o.latencyPercentiles.p90),
    p99_ms: ms(o.latencyPercentiles.p99),
    max_ms: ms(o.summary.slowest),
  };
}

/** Runs oha at a fixed rate for a fixed duration against the peer's synchronous trigger. */
export async function runOha(peer: Peer, load: OhaLoad, abort: AbortSignal): Promise<OhaResult> {
  const trigger = peer.syncTrigger;
  if (!trigger) throw new Error(`${peer.name} has no synchronous trigger`);
  const oha = findOha();
  if (!oha) throw new Error("oha not found (on PATH or in ~/.cargo/bin): cargo install oha --locked");
  const args = ["-q", String(load.rate), "-z", `${load.seconds}s`, "-c", String(load.connections), "--no-tui", "--output-format", "json"];
  args.push("-m", trigger.method);
  for (const [k, v] of Object.entries(trigger.headers)) args.push("-H", `${k}: ${v}`);
  args.push("-d", trigger.body, trigger.url);
  const command = ["oha", ...args.map((a) => (/[\s"{}]/.test(a) ? `'${a}'` : a))].join(" ");
  const p = Bun.spawn([oha, ...args], { stdout: "pipe", stderr: "pipe" });
  const kill = () => p.kill("SIGTERM");
  abort.addEventListener("abort", kill, { once: true });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  abort.removeEventListener("abort", kill);
  if (code !== 0) throw new Error(`oha exited ${code}: ${err.trim()}`);
  return parseOhaJson(out, command);
}
