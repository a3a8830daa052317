/**
 * oha against a peer's synchronous trigger: every request starts one run and is answered once that
 * run has completed, so oha's latency is trigger -> complete and its 2xx answers are completed runs.
 */
import { findOha, readOha } from "../../oha/oha.ts";
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

export function parseOhaJson(text: string, command: string): OhaResult {
  const o = readOha(text);
  const failures: Record<string, number> = { ...o.errors };
  for (const [code, n] of Object.entries(o.status_codes)) if (!code.startsWith("2")) failures[`http_${code}`] = n;
  return {
    command,
    elapsed_s: Math.round(o.elapsed_s * 1000) / 1000,
    requests: o.requests,
    completed: o.ok,
    completed_per_s: o.elapsed_s > 0 ? Math.round((o.ok / o.elapsed_s) * 10) / 10 : 0,
    failures,
    cut_at_deadline: o.cut_at_deadline,
    p50_ms: o.p50_ms,
    p90_ms: o.p90_ms,
    p99_ms: o.p99_ms,
    max_ms: o.max_ms,
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
