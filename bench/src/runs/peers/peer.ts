/**
 * A peer workflow engine measured on the same machine, with the same load generator, on the same
 * workload as our own engine (see workload.ts): what the peers' CLI (cli.ts) drives.
 */

/** Client-side, milliseconds since the trigger was sent. */
export interface PeerRun {
  acceptedMs: number;
  completedMs: number;
}

export interface Peer {
  name: string; // "restate" | "dbos" | "graphile-worker"
  /** The installed package version(s). */
  version: string;
  /** Installs nothing at run time; starts the engine (and its app/worker processes), resolves once a trigger works. */
  start(log: (line: string) => void): Promise<void>;
  /** Triggers one run and resolves when the client can observe it completed (sync ingress / waiting on the result / LISTEN): for sequential latency. */
  runOnce(input: { x: number }): Promise<PeerRun>;
  /** For oha: an HTTP request that triggers one run and returns only once that run has completed (so oha's latency is trigger -> complete), if the engine offers it; else undefined. */
  syncTrigger?: { url: string; method: "POST"; headers: Record<string, string>; body: string };
  /** pids of every process of this peer (engine server, app, workers), for CPU accounting from /proc. */
  pids(): number[];
  stop(): Promise<void>;
  /**
   * The PostgreSQL database that holds this peer's state, when it keeps it in the shared
   * PostgreSQL: the CLI counts the CPU of that database's backends apart from pids().
   */
  database?: string;
}

export const PEER_NAMES = ["restate", "dbos", "graphile-worker"] as const;
export type PeerName = (typeof PEER_NAMES)[number];

export function isPeerName(s: string): s is PeerName {
  return (PEER_NAMES as readonly string[]).includes(s);
}

/** A list of peer names, or `all`: the peers named, and the names that are none. */
export function parsePeerList(list: readonly string[]): { peers: PeerName[]; unknown: string[] } {
  const names = list.length === 1 && list[0] === "all" ? [...PEER_NAMES] : list;
  return { peers: names.filter(isPeerName), unknown: names.filter((n) => !isPeerName(n)) };
}
