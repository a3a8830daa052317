import { PEER_NAMES, type PeerName, parsePeerList } from "./peer.ts";

export interface PeersOptions {
  peers: PeerName[];
  /** Sequential runs measured (after the warm-up); 0 skips. */
  sequential: number;
  warmup: number;
  /** oha's -q; with `seconds` 0 oha is skipped. */
  rate: number;
  seconds: number;
  connections: number;
  /** Where to write the results as JSON, if anywhere. */
  json?: string;
}

export const USAGE = `usage: bun bench/src/runs/peers/cli.ts --peer <${PEER_NAMES.join("|")}|all>
         [--sequential N (200)] [--warmup W (20)]
         [--rate R (500) --seconds S (10; 0: no oha)] [--connections C (64)] [--json FILE]`;

function count(flag: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min) throw new Error(`${flag} needs an integer >= ${min}\n${USAGE}`);
  return n;
}

export function parseOptions(argv: string[]): PeersOptions {
  const o: PeersOptions = { peers: [...PEER_NAMES], sequential: 200, warmup: 20, rate: 500, seconds: 10, connections: 64 };
  let peerGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    switch (flag) {
      case "--peer": {
        if (value === undefined) throw new Error(`--peer needs a value\n${USAGE}`);
        const { peers, unknown } = parsePeerList(value.split(","));
        if (unknown.length > 0) throw new Error(`unknown peer ${unknown.join(", ")}\n${USAGE}`);
        o.peers = peers;
        peerGiven = true;
        break;
      }
      case "--sequential":
        o.sequential = count(flag, value, 0);
        break;
      case "--warmup":
        o.warmup = count(flag, value, 0);
        break;
      case "--rate":
        o.rate = count(flag, value, 1);
        break;
      case "--seconds":
        o.seconds = count(flag, value, 0);
        break;
      case "--connections":
        o.connections = count(flag, value, 1);
        break;
      case "--json":
        if (value === undefined) throw new Error(`--json needs a file\n${USAGE}`);
        o.json = value;
        break;
      case "-h":
      case "--help":
        throw new Error(USAGE);
      default:
        throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
    i++;
  }
  if (!peerGiven) throw new Error(`--peer is required\n${USAGE}`);
  return o;
}
