import { mkdirSync } from "node:fs";
import { availableParallelism, cpus, release, totalmem, type } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "@wf/platform/config";
import { createSql } from "@wf/platform/sql";
import { cpuBetween, cpuMark } from "../cpu.ts";
import { gitCommit } from "../git.ts";
import { ensureOha } from "../oha/oha.ts";
import { intOption, OptionError, optionsOrExit } from "../options.ts";
import { assertPortFree, run, type Started, stackUp, start, waitHttp } from "../processes.ts";
import { findStackPids, stackPorts } from "../stack-processes.ts";
import { benchStore, recreateStore } from "../store.ts";
import { againstRunsBaseline, readRunsBaseline, writeRunsBaseline } from "./baseline.ts";
import { pgbenchCeiling } from "./ceiling.ts";
import { ApiClient } from "./client.ts";
import { kafkaHop } from "./kafka-hop.ts";
import { type LoadSpec, loadStep, type Window } from "./load.ts";
import { parkedWaits } from "./parked.ts";
import { measurePeer, type PeerResult } from "./peers/measure.ts";
import { PEER_NAMES, type PeerName, parsePeerList } from "./peers/peer.ts";
import { createPeer } from "./peers/registry.ts";
import { renderRunsReport, targetLines } from "./report.ts";
import type { LoadStep, ParkedWaits, RunCpu, RunsResults } from "./results.ts";
import { sequential } from "./sequential.ts";
import { CHAIN_3, CHAIN_10, SHAPES } from "./shapes.ts";

/**
 * `bun run bench:runs`: how fast runs are executed. Brings up the stack (what is not running), an
 * empty database and topic of its own, the API and the workers; then measures runs one at a time,
 * under a closed and a stepped open loop of triggers (oha), and PostgreSQL's own ceiling (pgbench).
 * Writes bench/results/<timestamp>-runs/{results.json, report.md, report.html}, prints the
 * headline against bench/baselines/runs.json, and stops what it started. Exit 1 when a run was lost.
 */
const ROOT = join(import.meta.dir, "../../..");
const { values: args } = parseArgs({
  options: {
    sequential: { type: "string", default: "300" },
    rates: { type: "string", default: "500,1000,2000,3000,4000,5000,6000" },
    seconds: { type: "string", default: "5" },
    concurrency: { type: "string", default: "64" },
    // Runs parked in a long delay at once (0: none), and how long their delay is.
    parked: { type: "string", default: "10000" },
    "parked-delay-ms": { type: "string", default: "60000" },
    "write-baseline": { type: "boolean", default: false },
    // restate, dbos, graphile-worker, a list of them, or all: measured after our engine, on the same box.
    peers: { type: "string" },
  },
});
const log = (line: string) => process.stderr.write(`${line}\n`);
const envInt = (k: string, d: number, min: number, max: number) => intOption(k, process.env[k] ?? String(d), min, max);
const opts = optionsOrExit(() => {
  const rates = args.rates!.split(",").map((r) => intOption("--rates", r.trim(), 1, 1_000_000));
  if (rates.some((r, i) => i > 0 && r <= rates[i - 1]!)) throw new OptionError("--rates must be increasing");
  return {
    sequentialRuns: intOption("--sequential", args.sequential!, 1, 100_000),
    rates,
    seconds: intOption("--seconds", args.seconds!, 1, 3600),
    concurrency: intOption("--concurrency", args.concurrency!, 1, 10_000),
    parked: intOption("--parked", args.parked!, 0, 1_000_000),
    parkedDelayMs: intOption("--parked-delay-ms", args["parked-delay-ms"]!, 10_000, 3_600_000),
    replicas: envInt("BENCH_API_REPLICAS", availableParallelism(), 1, 64),
    workers: envInt("BENCH_WORKER_REPLICAS", 2, 1, 64),
    port: envInt("BENCH_BUN_PORT", 3000, 1, 65535),
    drainS: envInt("BENCH_RUNS_DRAIN_S", 120, 1, 3600),
    peers: ((): PeerName[] => {
      if (args.peers === undefined) return [];
      const { peers, unknown } = parsePeerList(args.peers.split(",").map((p) => p.trim()));
      if (unknown.length > 0) throw new OptionError(`--peers takes ${PEER_NAMES.join(", ")} or all, got ${unknown.join(", ")}`);
      return peers;
    })(),
  };
});

const baseConfig = loadConfig();
// A database and topic of its own, apart from the flow bench's: either bench empties its own.
const serviceDb = new URL(baseConfig.databaseDirectUrl).pathname.slice(1);
const store = optionsOrExit(() => benchStore(baseConfig, process.env.BENCH_RUNS_DATABASE || `${serviceDb}_bench_runs`, "pgbouncer"));
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const outDir = join(ROOT, "bench/results", `${stamp}-runs`);
const started: Started[] = [];

/** CPU per completed run between begin() and end(), by process group. */
function cpuWindow(apiPid: number, workersPid: number, stackPids: ReturnType<typeof findStackPids>): Window {
  let before = cpuMark(apiPid, workersPid, stackPids);
  return {
    begin() {
      before = cpuMark(apiPid, workersPid, stackPids);
    },
    end(runs, loadGeneratorS): RunCpu | undefined {
      if (runs === 0) return undefined;
      const c = cpuBetween(before, cpuMark(apiPid, workersPid, stackPids), loadGeneratorS, availableParallelism(), runs);
      const us = (s: number) => Math.round((s * 1e6) / runs);
      const machine = c.api_s + c.workers_s + c.runner_s + c.rest_s;
      return {
        window_s: c.window_s,
        machine_busy_pct: c.machine_busy_pct,
        per_run_us: {
          machine: us(machine),
          api: us(c.api_s),
          workers: us(c.workers_s),
          load_generator: us(c.runner_s),
          rest: us(c.rest_s),
          ...Object.fromEntries(Object.entries(c.stack_s ?? {}).map(([k, v]) => [k, us(v)])),
        },
      };
    },
  };
}

const showLoad = (l: LoadStep) =>
  `[runs] ${l.shape} ${l.mode === "open" ? `${l.offered_rps}/s offered` : `closed c${l.concurrency}`}: ${l.accepted} accepted, ${l.completed_rps} runs/s completed (${l.steps_per_s} steps/s), complete p50 ${l.service_complete.p50_ms} ms p99 ${l.service_complete.p99_ms} ms, lost ${l.lost}${l.cpu ? `; ${l.cpu.per_run_us.machine} µs of machine CPU per run` : ""}`;

/**
 * One peer: as many runs one at a time as our engine did, then oha at its connections with no rate
 * it could reach (so a closed loop, as ours), against its synchronous trigger (2xx = completed).
 */
async function measureOnePeer(name: PeerName): Promise<PeerResult> {
  const peer = createPeer(name);
  const o = {
    peers: [name],
    sequential: opts.sequentialRuns,
    warmup: 50,
    rate: 1_000_000,
    seconds: opts.seconds * 2,
    connections: opts.concurrency,
  };
  try {
    return await measurePeer(peer, o, (line) => log(`[peers] ${line}`), new AbortController().signal);
  } catch (err) {
    log(`[peers] ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
    return { peer: name, version: peer.version, started_s: 0, load_at_start: [0, 0, 0], error: String(err) };
  } finally {
    await peer.stop();
  }
}

/** An open-loop step kept up when nearly all it offered completed, none was lost, and p99 stayed under a second. */
const keptUp = (l: LoadStep) => l.lost === 0 && l.completed_rps >= 0.95 * (l.offered_rps ?? 0) && l.service_complete.p99_ms < 1000;

async function main(): Promise<number> {
  const startedAt = new Date();
  const commit = await gitCommit(ROOT);
  const oha = await ensureOha(log);
  mkdirSync(outDir, { recursive: true });
  await stackUp(ROOT, log);
  const stackPids = findStackPids(stackPorts(baseConfig));
  log(`[runs] database ${store.database} and topic ${store.runsTopic}: created empty`);
  await recreateStore(baseConfig, store);
  const sql = createSql(baseConfig, store.directUrl, 2);
  const env = { LOG_LEVEL: "warn", ...store.env };
  const audit: string[] = [];
  try {
    await assertPortFree(opts.port);
    const workers = start(
      "workers",
      [process.execPath, join(ROOT, "worker/src/main.ts")],
      { ...env, WORKER_REPLICAS: String(opts.workers) },
      join(outDir, "workers.log"),
    );
    started.push(workers);
    const api = start(
      "api",
      [process.execPath, join(ROOT, "api/src/main.ts")],
      { ...env, PORT: String(opts.port), API_REPLICAS: String(opts.replicas) },
      join(outDir, "api.log"),
    );
    started.push(api);
    const client = new ApiClient(`http://127.0.0.1:${opts.port}`);
    await waitHttp(`${client.base}/health/ready`, 60_000, api);
    const window = cpuWindow(api.proc.pid, workers.proc.pid, stackPids);

    // Warm-up, not recorded: pools connected, code compiled, the consumer group settled.
    log("[runs] warm-up");
    await sequential(client, sql, CHAIN_3, 200, log);
    await loadStep(
      oha,
      client,
      sql,
      { shape: CHAIN_3, mode: "closed", concurrency: opts.concurrency, durationS: 3, drainS: opts.drainS },
      window,
    );

    const seq = [];
    for (const shape of SHAPES) {
      const s = await sequential(client, sql, shape, Math.min(opts.sequentialRuns, shape.sequentialRuns ?? opts.sequentialRuns), log);
      log(
        `[runs] ${shape.name} one at a time: trigger → complete p50 ${s.service_complete.p50_ms} ms, p99 ${s.service_complete.p99_ms} ms (client: p50 ${s.client_complete.p50_ms} ms); trigger → start p50 ${s.service_start.p50_ms} ms`,
      );
      seq.push(s);
    }
    const load: LoadStep[] = [];
    const measure = async (spec: LoadSpec) => {
      const l = await loadStep(oha, client, sql, spec, window);
      log(showLoad(l));
      load.push(l);
      return l;
    };
    for (const shape of [CHAIN_3, CHAIN_10])
      await measure({ shape, mode: "closed", concurrency: opts.concurrency, durationS: opts.seconds * 2, drainS: opts.drainS });
    const knee: Record<string, number | null> = {};
    for (const shape of [CHAIN_3]) {
      knee[shape.name] = null;
      for (const rate of opts.rates) {
        const l = await measure({
          shape,
          mode: "open",
          rate,
          concurrency: Math.max(opts.concurrency, 256),
          durationS: opts.seconds,
          drainS: opts.drainS,
        });
        if (!keptUp(l)) break;
        knee[shape.name] = rate;
      }
    }
    for (const l of load) {
      if (l.lost > 0)
        audit.push(
          `${l.shape} ${l.mode} ${l.offered_rps ?? `c${l.concurrency}`}: ${l.lost} accepted run(s) never reached a terminal state.`,
        );
      if (l.duplicate_steps > 0) audit.push(`${l.shape} ${l.mode}: ${l.duplicate_steps} run(s) executed a step more than once.`);
    }
    for (const s of seq) if (s.not_completed > 0) audit.push(`${s.shape} one at a time: ${s.not_completed} run(s) did not complete.`);

    let parked: ParkedWaits | undefined;
    if (opts.parked > 0) {
      log(`[runs] parked waits: ${opts.parked} runs each in a ${opts.parkedDelayMs} ms delay`);
      parked = await parkedWaits(client, sql, opts.parked, opts.parkedDelayMs, opts.drainS, log);
      log(
        `[runs] parked waits: ${parked.completed}/${parked.runs} completed, woke late by p50 ${parked.late.p50_ms} ms, p99 ${parked.late.p99_ms} ms; ${parked.leased_while_parked} held a worker while parked`,
      );
      if (parked.lost > 0) audit.push(`parked waits: ${parked.lost} run(s) did not complete.`);
      if (parked.leased_while_parked > 0) audit.push(`parked waits: ${parked.leased_while_parked} run(s) held a worker while waiting.`);
    }

    // The peers after our engine, with our API and workers stopped: each has the machine to itself.
    const peers: PeerResult[] = [];
    if (opts.peers.length > 0) {
      for (const s of started.splice(0).reverse()) await s.stop();
      for (const name of opts.peers) peers.push(await measureOnePeer(name));
    }

    log("[runs] Kafka: one message at a time, producer to consumer");
    const hop = await kafkaHop(baseConfig, 200).catch((err) => {
      log(`[runs] Kafka hop not measured: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    });
    if (hop) log(`[runs] Kafka hop p50 ${hop.hop.p50_ms} ms, p90 ${hop.hop.p90_ms} ms (the producer's ack p50 ${hop.ack.p50_ms} ms)`);

    const ceiling = [];
    for (const [via, url, clients] of [
      ["pgbouncer", store.url, opts.concurrency],
      ["direct", store.directUrl, 16],
    ] as const) {
      log(`[runs] pgbench ${via}: PostgreSQL's own ceiling for a one-row insert-and-update transaction (${clients} clients, 10 s)`);
      try {
        const c = await pgbenchCeiling(sql, url, { clients, durationS: 10, via });
        log(`[runs] pgbench ${via}: ${c.tps} tps`);
        ceiling.push(c);
      } catch (err) {
        log(`[runs] pgbench ${via} failed, no ceiling: ${err instanceof Error ? err.message : String(err)}`);
      }
    }

    const cpu0 = cpus()[0];
    const results: RunsResults = {
      kind: "runs",
      started_at: startedAt.toISOString(),
      finished_at: new Date().toISOString(),
      ...(commit && { commit }),
      machine: {
        cores: availableParallelism(),
        memory_gib: Math.round(totalmem() / 2 ** 30),
        cpu_model: cpu0?.model ?? "unknown",
        os: `${type()} ${release()}`,
      },
      versions: { bun: Bun.version, oha: (await run([oha, "--version"])).trim() },
      setup: {
        api_replicas: opts.replicas,
        worker_replicas: opts.workers,
        worker_concurrency: baseConfig.workerConcurrency,
        sequential_runs: opts.sequentialRuns,
        topology: "pgbouncer",
      },
      shapes: SHAPES.map(({ name, steps, description }) => ({ name, steps, description })),
      sequential: seq,
      load,
      ...(hop && { kafka_hop: hop }),
      ...(parked && { parked }),
      ceiling,
      knee,
      audit,
      ...(peers.length > 0 && { peers }),
    };
    await Bun.write(join(outDir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
    const base = readRunsBaseline();
    const against = base && againstRunsBaseline(results, base);
    await renderRunsReport(results, against, outDir);
    for (const line of targetLines(results)) log(`[targets] ${line}`);
    if (against)
      for (const a of against)
        log(
          `[baseline] ${a.figure}: ${a.now} ${a.unit}, baseline ${a.base} (${a.changePct === null ? "—" : `${a.changePct >= 0 ? "+" : ""}${a.changePct.toFixed(1)}%`}${a.direction === "worse" ? ", WORSE" : ""})`,
        );
    else log("[baseline] no bench/baselines/runs.json to compare with (--write-baseline writes one)");
    if (args["write-baseline"]) log(`[baseline] written: ${writeRunsBaseline(results)}`);
    log(`[runs] report: ${join(outDir, "report.html")}`);
    return audit.length === 0 ? 0 : 1;
  } finally {
    for (const s of started.reverse()) await s.stop();
    await sql.end();
  }
}

main().then(
  (code) => process.exit(code),
  async (err) => {
    log(`[runs] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    for (const s of started.reverse()) await s.stop().catch(() => {});
    process.exit(1);
  },
);
