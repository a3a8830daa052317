/**
 * Which sockets, and which processes, listen on a TCP port, from Linux's /proc. Used by an API
 * replica to find its own listening socket, and by the bench to find the stack's processes
 * (PostgreSQL, PgBouncer, Redis, Kafka) whose CPU it reports. Empty answers off Linux.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

const LISTEN_STATE = "0A";

/** Inodes of the sockets listening on `port` in a /proc/net/tcp or tcp6 table (every process's). */
export function listeningInodes(table: string, port: number): string[] {
  const inodes: string[] = [];
  for (const line of table.split("\n").slice(1)) {
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== LISTEN_STATE) continue;
    const localPort = parseInt(f[1]!.slice(f[1]!.lastIndexOf(":") + 1), 16);
    if (localPort === port) inodes.push(f[9]!);
  }
  return inodes;
}

/** Inodes of every socket listening on `port`, IPv4 and IPv6. */
export function listeningInodesOf(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    try {
      for (const inode of listeningInodes(readFileSync(file, "utf8"), port)) inodes.add(inode);
    } catch {
      // no IPv6 table on this kernel, or no /proc
    }
  }
  return inodes;
}

/** The descriptors of process `pid` ("self" for this one) that are among `inodes`. */
export function fdsOf(pid: number | "self", inodes: Set<string>): number[] {
  const fds: number[] = [];
  let names: string[];
  try {
    names = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return fds; // exited, or not ours to read
  }
  for (const name of names) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${name}`);
    } catch {
      continue; // closed since the listing
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode && inodes.has(inode)) fds.push(Number(name));
  }
  return fds;
}

/** The processes listening on `port`, lowest pid first: with SO_REUSEPORT there may be several. */
export function listenerPids(port: number): number[] {
  const inodes = listeningInodesOf(port);
  if (inodes.size === 0) return [];
  let pids: number[];
  try {
    pids = readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return [];
  }
  return pids.filter((pid) => fdsOf(pid, inodes).length > 0).sort((a, b) => a - b);
}
