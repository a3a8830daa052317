/**
 * CPU seconds spent during a measurement by a peer's processes, by the PostgreSQL backends of its
 * database (shared server: its WAL writer, checkpointer and the other databases' backends are not
 * counted there), and by the whole machine; and the load average, since the machine is shared.
 */
import { readFileSync } from "node:fs";
import { machineBusySeconds, readProcTable, treeCpuSeconds } from "../../cpu.ts";
import type { Peer } from "./peer.ts";
import { backendPids } from "./pg.ts";

export interface CpuReading {
  peer: number;
  /** CPU-s of each of pids(), by "name pid". */
  processes: Map<string, number>;
  database: Map<number, number>;
  machine: number;
}

export interface CpuUsage {
  /** CPU-s of pids() (and anything they started). */
  peer_s: number;
  /** Of peer_s, each process's, by "name pid" (the name from /proc/<pid>/comm). */
  processes: Record<string, number>;
  /** CPU-s of the backends of the peer's own database (absent for a peer that keeps no state in PostgreSQL). */
  database_s?: number;
  /** Busy CPU-s of the whole machine (2 cores: at most 2 per second). */
  machine_s: number;
  /** 1-minute load average at the end. */
  load1: number;
}

async function databaseTicks(peer: Peer): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (!peer.database) return out;
  const table = readProcTable();
  for (const pid of await backendPids(peer.database)) out.set(pid, treeCpuSeconds(pid, table));
  return out;
}

export async function readCpu(peer: Peer): Promise<CpuReading> {
  const database = await databaseTicks(peer);
  const table = readProcTable();
  const processes = new Map<string, number>();
  for (const pid of peer.pids()) processes.set(`${processName(pid)} ${pid}`, treeCpuSeconds(pid, table));
  const peerSeconds = [...processes.values()].reduce((a, b) => a + b, 0);
  return { peer: peerSeconds, processes, database, machine: machineBusySeconds() };
}

function processName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "?";
  }
}

export function loadAverage(): [number, number, number] {
  try {
    const [a, b, c] = readFileSync("/proc/loadavg", "utf8").split(" ").map(Number);
    return [a ?? 0, b ?? 0, c ?? 0];
  } catch {
    return [0, 0, 0];
  }
}

/** Usage between two readings; a backend that appeared in between counts from zero. */
export function cpuBetween(peer: Peer, a: CpuReading, b: CpuReading): CpuUsage {
  const round = (v: number) => Math.round(v * 100) / 100;
  let database = 0;
  for (const [pid, s] of b.database) database += s - (a.database.get(pid) ?? 0);
  const processes: Record<string, number> = {};
  for (const [name, s] of b.processes) processes[name] = round(s - (a.processes.get(name) ?? 0));
  return {
    peer_s: round(b.peer - a.peer),
    processes,
    ...(peer.database ? { database_s: round(database) } : {}),
    machine_s: round(b.machine - a.machine),
    load1: loadAverage()[0],
  };
}
