/**
 * Measures peer workflow engines on this machine with the workload and load generator of our own
 * execution bench: `bun bench/src/runs/peers/cli.ts --peer <restate|dbos|graphile-worker|all>
 * [--sequential N] [--rate R --seconds S]`. Each peer is started, measured and stopped in turn.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { measurePeer, type PeerResult } from "./measure.ts";
import { parseOptions } from "./options.ts";
import type { Peer } from "./peer.ts";
import { durabilitySettings } from "./pg.ts";
import { createPeer } from "./registry.ts";

const log = (line: string) => console.log(`[peers ${new Date().toISOString().slice(11, 19)}] ${line}`);

let current: Peer | undefined;
const interrupted = new AbortController();

let stopping: Promise<void> | undefined;

/** Stops the peer being measured; called from the signal handler and after each peer, it stops it once and both wait for it. */
function stopCurrent(): Promise<void> {
  const peer = current;
  if (!peer) return stopping ?? Promise.resolve();
  current = undefined;
  log(`${peer.name}: stopping`);
  stopping = peer.stop().then(() => log(`${peer.name}: stopped`));
  return stopping;
}

for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    if (interrupted.signal.aborted) return;
    log(`${signal}: stopping what was started`);
    interrupted.abort();
    stopCurrent().finally(() => process.exit(130));
  });

function summary(results: PeerResult[]): string {
  const rows = [
    "| peer | sequential p50 / p90 / p99 / max ms | oha completed runs/s | oha p50 / p90 / p99 / max ms | CPU-ms/run (seq, oha) |",
    "|---|---|---|---|---|",
  ];
  for (const r of results) {
    const s = r.sequential;
    const o = r.oha;
    rows.push(
      `| ${r.peer} | ${s ? `${s.completed.p50_ms} / ${s.completed.p90_ms} / ${s.completed.p99_ms} / ${s.completed.max_ms}` : "-"} | ` +
        `${o ? `${o.completed_per_s}` : (r.oha_skipped ?? r.error ?? "-")} | ${o ? `${o.p50_ms} / ${o.p90_ms} / ${o.p99_ms} / ${o.max_ms}` : "-"} | ` +
        `${s ? s.cpu_ms_per_run : "-"}, ${o ? o.cpu_ms_per_run : "-"} |`,
    );
  }
  return rows.join("\n");
}

async function main(): Promise<number> {
  let o: ReturnType<typeof parseOptions>;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    return 2;
  }
  const pg = await durabilitySettings().catch((e: unknown) => ({ error: String(e) }));
  log(`shared PostgreSQL: ${JSON.stringify(pg)}`);
  const results: PeerResult[] = [];
  for (const name of o.peers) {
    if (interrupted.signal.aborted) break;
    const peer = createPeer(name);
    current = peer;
    try {
      results.push(await measurePeer(peer, o, log, interrupted.signal));
    } catch (e) {
      log(`${name}: FAILED: ${e instanceof Error ? e.message : String(e)}`);
      results.push({ peer: name, version: peer.version, started_s: 0, load_at_start: [0, 0, 0], error: String(e) });
    } finally {
      await stopCurrent();
    }
  }
  console.log(`\n${summary(results)}\n`);
  if (o.json) {
    mkdirSync(dirname(o.json), { recursive: true });
    writeFileSync(o.json, `${JSON.stringify({ at: new Date().toISOString(), options: o, postgres: pg, results }, null, 2)}\n`);
    log(`results written to ${o.json}`);
  }
  return results.some((r) => r.error) ? 1 : 0;
}

process.exit(await main());
