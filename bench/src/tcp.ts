/**
 * The machine's TCP counters from Linux's /proc/net/snmp and /proc/net/netstat. At 10,000 users
 * connecting at once, what the listen queues do with the burst shapes a flow: a connection the
 * accept queue has no room for is dropped and retried by its client a second or more later, and a
 * full SYN queue answers with SYN cookies, which on loopback also cut the connection's segment size
 * from 64 KiB to 1,460 bytes. Read around each flow, these say which of it happened to which target.
 */
import { readFileSync } from "node:fs";
import type { FlowTcp } from "./results.ts";

/** The counters the bench keeps: `Tcp:` lines of /proc/net/snmp and `TcpExt:` lines of /proc/net/netstat. */
export interface TcpCounters {
  OutSegs: number;
  RetransSegs: number;
  ListenOverflows: number;
  SyncookiesSent: number;
  TCPSynRetrans: number;
}

const KEPT = { Tcp: ["OutSegs", "RetransSegs"], TcpExt: ["ListenOverflows", "SyncookiesSent", "TCPSynRetrans"] } as const;

/**
 * The named counters of one protocol in /proc/net's layout: a line of names and then a line of
 * values, each starting with `<protocol>:`.
 */
export function parseProcNet(text: string, protocol: string): Map<string, number> {
  const lines = text.split("\n").filter((l) => l.startsWith(`${protocol}: `));
  const out = new Map<string, number>();
  if (lines.length < 2) return out;
  const names = lines[0]!.trim().split(/\s+/).slice(1);
  const values = lines[1]!.trim().split(/\s+/).slice(1);
  for (const [i, n] of names.entries()) out.set(n, Number(values[i]));
  return out;
}

function readOr(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** The machine's TCP counters now, or undefined where /proc/net does not have them all (not Linux). */
export function readTcpCounters(): TcpCounters | undefined {
  const tcp = parseProcNet(readOr("/proc/net/snmp"), "Tcp");
  const ext = parseProcNet(readOr("/proc/net/netstat"), "TcpExt");
  const pick = (m: Map<string, number>, names: readonly string[]) => names.map((n) => [n, m.get(n)] as const);
  const all = [...pick(tcp, KEPT.Tcp), ...pick(ext, KEPT.TcpExt)];
  if (all.some(([, v]) => v === undefined || Number.isNaN(v))) return undefined;
  return Object.fromEntries(all) as unknown as TcpCounters;
}

/** What happened on the machine's TCP between two readings around a flow of `requests` requests. */
export function tcpBetween(a: TcpCounters, b: TcpCounters, requests: number): FlowTcp {
  const d = (k: keyof TcpCounters) => Math.max(0, b[k] - a[k]);
  return {
    listen_overflows: d("ListenOverflows"),
    syncookies_sent: d("SyncookiesSent"),
    syn_retransmits: d("TCPSynRetrans"),
    retransmitted_segments: d("RetransSegs"),
    segments_per_request: requests > 0 ? Math.round((d("OutSegs") / requests) * 100) / 100 : 0,
  };
}

/**
 * The kernel's settings that bound a listen queue, for the report's configuration: a listener's
 * backlog is cut to net.core.somaxconn, and tcp_syncookies decides whether a full SYN queue
 * answers with cookies (1, 2) or drops the handshake (0). "unknown" where /proc/sys does not say.
 */
export function listenQueueSettings(): { somaxconn: number | "unknown"; tcp_syncookies: number | "unknown" } {
  const read = (path: string) => {
    const v = Number.parseInt(readOr(path).trim(), 10);
    return Number.isNaN(v) ? "unknown" : v;
  };
  return { somaxconn: read("/proc/sys/net/core/somaxconn"), tcp_syncookies: read("/proc/sys/net/ipv4/tcp_syncookies") };
}
