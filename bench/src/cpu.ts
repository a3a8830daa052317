/**
 * CPU time from Linux's /proc: of a process and everything it started, and of the whole machine.
 * Everything of the bench shares one machine, so a flow's throughput depends on what the load
 * generator, the workers and the stack cost as much as on the API. These figures say how the
 * machine's CPU was shared during a flow, and what one request cost the API itself.
 */
import { readdirSync, readFileSync } from "node:fs";
import { type FlowCpu, STACK_SERVICES, type StackService } from "./results.ts";
import type { StackPids } from "./stack-processes.ts";

/** Clock ticks per second of /proc's times: USER_HZ, 100 on every Linux architecture the bench runs on. */
const TICKS = 100;

/** CPU ticks of a process, its own and those of children it has reaped: in user space and in the kernel. */
interface Ticks {
  /** utime + cutime */
  user: number;
  /** stime + cstime: system calls, socket work and page faults done on its behalf */
  system: number;
}

interface ProcTimes extends Ticks {
  ppid: number;
  /** utime + stime of the process itself (all its threads), without its reaped children. */
  own: number;
}

/**
 * The fields of a /proc stat file (a process's or a thread's) after the command name, which may
 * itself hold spaces and parentheses: f[0] is field 3 (state), ppid field 4, utime..cstime fields
 * 14..17. Undefined once the process or thread is gone.
 */
function statFields(path: string): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined; // exited between the listing and the read
  }
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

function readStat(pid: string): ProcTimes | undefined {
  const f = statFields(`/proc/${pid}/stat`);
  if (!f) return undefined;
  return {
    ppid: Number(f[1]),
    user: Number(f[11]) + Number(f[13]),
    system: Number(f[12]) + Number(f[14]),
    own: Number(f[11]) + Number(f[12]),
  };
}

/** utime + stime ticks of a process's main thread (the one whose id is the pid), 0 once it is gone. */
function mainThreadTicks(pid: number): number {
  const f = statFields(`/proc/${pid}/task/${pid}/stat`);
  return f ? Number(f[11]) + Number(f[12]) : 0;
}

/** Every process's CPU ticks and its children: one pass over /proc, empty when /proc is not there. */
export interface ProcTable {
  ticks: Map<number, ProcTimes>;
  children: Map<number, number[]>;
}

export function readProcTable(): ProcTable {
  const table: ProcTable = { ticks: new Map(), children: new Map() };
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return table;
  }
  for (const p of pids) {
    const s = readStat(p);
    if (!s) continue;
    table.ticks.set(Number(p), s);
    const list = table.children.get(s.ppid);
    if (list) list.push(Number(p));
    else table.children.set(s.ppid, [Number(p)]);
  }
  return table;
}

/** CPU seconds used so far by `pid` and all its descendants, in user space and in the kernel (0 for a pid not in the table). */
export function treeCpu(pid: number, table: ProcTable = readProcTable()): Ticks {
  const sum = { user: 0, system: 0 };
  for (const t of treeTimes(pid, table)) {
    sum.user += t.user;
    sum.system += t.system;
  }
  return { user: sum.user / TICKS, system: sum.system / TICKS };
}

/** The times of `pid` and of every process below it that is still running. */
function* treeTimes(pid: number, table: ProcTable): Generator<ProcTimes & { pid: number }> {
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop()!;
    const t = table.ticks.get(p);
    if (t) yield { ...t, pid: p };
    todo.push(...(table.children.get(p) ?? []));
  }
}

/**
 * CPU seconds used so far by the threads of `pid`'s tree other than each process's main thread:
 * in a JavaScript runtime the main thread runs the event loop (the JavaScript, the HTTP server),
 * the others compile code, mark and sweep for the garbage collector, or return memory.
 */
export function treeHelperThreadsSeconds(pid: number, table: ProcTable = readProcTable()): number {
  let ticks = 0;
  for (const t of treeTimes(pid, table)) ticks += Math.max(0, t.own - mainThreadTicks(t.pid));
  return ticks / TICKS;
}

/** CPU seconds used so far by `pid` and all its descendants (0 for a pid not in the table). */
export function treeCpuSeconds(pid: number, table: ProcTable = readProcTable()): number {
  const t = treeCpu(pid, table);
  return t.user + t.system;
}

/** Busy CPU seconds of the whole machine so far (every state but idle and iowait), 0 without /proc. */
export function machineBusySeconds(): number {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
    const [, ...fields] = line.trim().split(/\s+/);
    const n = fields.map(Number);
    const total = n.slice(0, 8).reduce((a, b) => a + b, 0); // guest time is already in user
    return (total - n[3]! - n[4]!) / TICKS;
  } catch {
    return 0;
  }
}

export interface CpuMark {
  at: number;
  api: number;
  /** Of `api`, the kernel's part. */
  apiKernel: number;
  /** Of `api`, the part of threads other than the processes' main threads. */
  apiHelpers: number;
  workers: number;
  machine: number;
  /** CPU seconds of each stack service found on this machine. */
  stack: Partial<Record<StackService, number>>;
}

/** A reading to subtract from a later one. */
export function cpuMark(apiPid: number, workersPid: number, stackPids: StackPids = {}): CpuMark {
  const table = readProcTable();
  const api = treeCpu(apiPid, table);
  const stack: CpuMark["stack"] = {};
  for (const s of STACK_SERVICES) {
    const pid = stackPids[s];
    // A service that was restarted has another pid: its figure would be nonsense, so it has none.
    if (pid !== undefined && table.ticks.has(pid)) stack[s] = treeCpuSeconds(pid, table);
  }
  return {
    at: performance.now(),
    api: api.user + api.system,
    apiKernel: api.system,
    apiHelpers: treeHelperThreadsSeconds(apiPid, table),
    workers: treeCpuSeconds(workersPid, table),
    machine: machineBusySeconds(),
    stack,
  };
}

/** CPU seconds spent on `requests` requests, in whole µs per request (0 without requests). */
export const usPerRequest = (seconds: number, requests: number): number => (requests > 0 ? Math.round((seconds * 1e6) / requests) : 0);

/**
 * How the machine's CPU was shared between two marks around a flow run: the runner's own time
 * comes from its resource usage, and "rest" is everything else that ran (PostgreSQL, PgBouncer,
 * Redis, Kafka, the kernel's own threads).
 */
export function cpuBetween(a: CpuMark, b: CpuMark, runnerS: number, cores: number, requests: number): FlowCpu {
  const window = (b.at - a.at) / 1000;
  const api = b.api - a.api;
  const workers = b.workers - a.workers;
  const machine = b.machine - a.machine;
  const round = (x: number) => Math.round(x * 100) / 100;
  const perRequest = (s: number) => usPerRequest(s, requests);
  const stack: NonNullable<FlowCpu["stack_s"]> = {};
  for (const s of STACK_SERVICES) {
    const [from, to] = [a.stack[s], b.stack[s]];
    if (from !== undefined && to !== undefined && to >= from) stack[s] = round(to - from);
  }
  return {
    window_s: round(window),
    machine_busy_pct: window > 0 ? Math.round((100 * machine) / (window * cores)) : 0,
    api_s: round(api),
    workers_s: round(workers),
    runner_s: round(runnerS),
    rest_s: round(Math.max(0, machine - api - workers - runnerS)),
    api_us_per_request: perRequest(api),
    api_kernel_us_per_request: perRequest(b.apiKernel - a.apiKernel),
    api_helper_threads_us_per_request: perRequest(b.apiHelpers - a.apiHelpers),
    ...(Object.keys(stack).length > 0 && { stack_s: stack }),
  };
}
