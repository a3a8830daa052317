/** One peer's measurement: start, warm up, sequential runs, oha at a fixed rate, stop. */
import { stats } from "../../flow/stats.ts";
import type { Stats } from "../../results.ts";
import { type CpuUsage, cpuBetween, loadAverage, readCpu } from "./cpu.ts";
import { type OhaResult, runOha } from "./oha.ts";
import type { PeersOptions } from "./options.ts";
import type { Peer } from "./peer.ts";

export interface SequentialResult {
  runs: number;
  failed: number;
  /** trigger -> accepted, ms */
  accepted: Stats;
  /** trigger -> complete, ms */
  completed: Stats;
  runs_per_s: number;
  cpu: CpuUsage;
  /** Peer CPU per run, ms (its processes, plus its database's backends where it has one). */
  cpu_ms_per_run: number;
}

export interface PeerResult {
  peer: string;
  version: string;
  started_s: number;
  load_at_start: [number, number, number];
  sequential?: SequentialResult;
  oha?: OhaResult & { cpu: CpuUsage; cpu_ms_per_run: number };
  /** Why the oha phase did not run, when it did not. */
  oha_skipped?: string;
  error?: string;
}

const round2 = (v: number) => Math.round(v * 100) / 100;

function describe(processes: Record<string, number>): string {
  return Object.entries(processes)
    .map(([name, s]) => `${name}: ${s}`)
    .join(", ");
}

function cpuPerRun(cpu: CpuUsage, runs: number): number {
  return runs > 0 ? round2(((cpu.peer_s + (cpu.database_s ?? 0)) * 1000) / runs) : 0;
}

async function sequential(peer: Peer, o: PeersOptions, log: (line: string) => void, abort: AbortSignal): Promise<SequentialResult> {
  for (let i = 0; i < o.warmup && !abort.aborted; i++) await peer.runOnce({ x: i });
  log(`${peer.name}: ${o.warmup} warm-up runs done; ${o.sequential} sequential runs`);
  const accepted: number[] = [];
  const completed: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  const before = await readCpu(peer);
  const t0 = performance.now();
  for (let i = 0; i < o.sequential && !abort.aborted; i++) {
    try {
      const r = await peer.runOnce({ x: i });
      accepted.push(r.acceptedMs);
      completed.push(r.completedMs);
    } catch (e) {
      failed++;
      firstError ??= String(e);
    }
    if ((i + 1) % 100 === 0) log(`${peer.name}: ${i + 1}/${o.sequential} sequential runs`);
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuBetween(peer, before, await readCpu(peer));
  if (firstError) log(`${peer.name}: ${failed} sequential runs failed; first error: ${firstError}`);
  return {
    runs: completed.length,
    failed,
    accepted: stats(Float64Array.from(accepted), 0),
    completed: stats(Float64Array.from(completed), 0),
    runs_per_s: round2(completed.length / wall),
    cpu,
    cpu_ms_per_run: cpuPerRun(cpu, completed.length),
  };
}

/** Measures one peer; `abort` (the CLI was interrupted) ends the phase in progress early. */
export async function measurePeer(peer: Peer, o: PeersOptions, log: (line: string) => void, abort: AbortSignal): Promise<PeerResult> {
  const result: PeerResult = { peer: peer.name, version: peer.version, started_s: 0, load_at_start: loadAverage() };
  log(`${peer.name} (${peer.version}): starting; load average ${result.load_at_start.join(" ")}`);
  const t0 = performance.now();
  await peer.start((line) => log(line));
  result.started_s = round2((performance.now() - t0) / 1000);
  log(`${peer.name}: started in ${result.started_s} s (pids ${peer.pids().join(" ")})`);
  if (o.sequential > 0) {
    const s = await sequential(peer, o, log, abort);
    result.sequential = s;
    log(
      `${peer.name}: sequential trigger->complete p50 ${s.completed.p50_ms} p90 ${s.completed.p90_ms} p99 ${s.completed.p99_ms} max ${s.completed.max_ms} ms` +
        ` (accepted p50 ${s.accepted.p50_ms} ms; ${s.runs} runs, ${s.failed} failed; ${s.cpu_ms_per_run} CPU-ms/run; load ${s.cpu.load1})`,
    );
  }
  if (abort.aborted) result.oha_skipped = "interrupted";
  else if (o.seconds === 0) result.oha_skipped = "--seconds 0";
  else if (!peer.syncTrigger) result.oha_skipped = "no synchronous trigger";
  else {
    log(`${peer.name}: oha -q ${o.rate} -z ${o.seconds}s -c ${o.connections} -> ${peer.syncTrigger.url}`);
    const before = await readCpu(peer);
    const r = await runOha(peer, { rate: o.rate, seconds: o.seconds, connections: o.connections }, abort);
    const cpu = cpuBetween(peer, before, await readCpu(peer));
    result.oha = { ...r, cpu, cpu_ms_per_run: cpuPerRun(cpu, r.completed) };
    const failures = Object.entries(r.failures).map(([k, n]) => `${k}: ${n}`);
    log(
      `${peer.name}: oha ${r.completed_per_s} completed runs/s (${r.completed} in ${r.elapsed_s} s; cut at deadline ${r.cut_at_deadline}` +
        `${failures.length ? `; failures ${failures.join(", ")}` : ""}) trigger->complete p50 ${r.p50_ms} p90 ${r.p90_ms} p99 ${r.p99_ms} max ${r.max_ms} ms;` +
        ` CPU peer ${cpu.peer_s} s (${describe(cpu.processes)})${cpu.database_s !== undefined ? `, its database ${cpu.database_s} s` : ""}, machine ${cpu.machine_s} s; load ${cpu.load1}`,
    );
  }
  return result;
}
