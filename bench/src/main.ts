import { existsSync, mkdirSync } from "node:fs";
import { availableParallelism, cpus, release, totalmem, type } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "@wf/platform/config";
import { createSql } from "@wf/platform/sql";
import { extractBaseline } from "./baseline/baseline.ts";
import { readBaseline } from "./baseline/file.ts";
import { baselineSummary } from "./baseline/summary.ts";
import { checkTargets, comparisons, REFERENCE, shortFlowNote } from "./compare.ts";
import { cpuBetween, cpuMark, treeCpuSeconds, usPerRequest } from "./cpu.ts";
import { audit } from "./flow/audit.ts";
import { quiesce } from "./flow/quiesce.ts";
import type { FlowOutput } from "./flow/runner.ts";
import { gitCommit } from "./git.ts";
import { ensureOha, type OhaEndpoint, runOha } from "./oha/oha.ts";
import { intOption, OptionError, optionsOrExit } from "./options.ts";
import { assertPortFree, assertRunning, run, type Started, stackUp, start, waitHttp } from "./processes.ts";
import type { Audit, BenchResults, FlowCpu, FlowRun, OhaRun, Target, WarmupRun } from "./results.ts";
import { findStackPids, type StackPids, stackPorts } from "./stack-processes.ts";
import { benchStore, recreateStore, vacuumStore, withDatabase } from "./store.ts";
import { listenQueueSettings, readTcpCounters, tcpBetween } from "./tcp.ts";

/**
 * `bun run bench[:1k|:10k]`: brings up what it needs (stack, workers), then measures the Bun API
 * and the Node reference alternately (A B A B …) on the same infrastructure with the same number
 * of replicas, each round: the 7-step flow, its audit, and oha per endpoint. Writes
 * bench/results/<timestamp>/{results.json, report.md, report.html} and stops what it started.
 * Exit code 1 when an audit fails.
 */
const SCENARIOS = {
  default: { users: 200, rounds: 3, ohaSeconds: 3, ohaConcurrency: 50, auditDeadlineS: 60 },
  "1k": { users: 1000, rounds: 3, ohaSeconds: 6, ohaConcurrency: 100, auditDeadlineS: 120 },
  "10k": { users: 10_000, rounds: 3, ohaSeconds: 6, ohaConcurrency: 1000, auditDeadlineS: 300 },
} as const;

const ROOT = join(import.meta.dir, "../..");
const { values: args } = parseArgs({
  options: {
    scenario: { type: "string", default: "default" },
    rounds: { type: "string" },
    users: { type: "string" },
    targets: { type: "string", default: "bun,node" },
    "skip-oha": { type: "boolean", default: false },
    // pgbouncer: the product's default path (transaction pooling, prepared statements kept by
    // PgBouncer 1.24). direct: PostgreSQL itself. PgBouncer is a third CPU consumer on 2 cores;
    // both are worth measuring, and the report says which was used.
    topology: { type: "string", default: "pgbouncer" },
    // direct: the load goes to the API's own port (its replicas share it with SO_REUSEPORT);
    // nginx: through the nginx least_conn front of infra/stack, as in the reports.
    via: { type: "string", default: "direct" },
  },
});
const scenarioName = args.scenario as keyof typeof SCENARIOS;
if (!(scenarioName in SCENARIOS)) {
  console.error(`unknown scenario ${args.scenario}; one of ${Object.keys(SCENARIOS).join(", ")}`);
  process.exit(2);
}
const sc: { users: number; rounds: number; ohaSeconds: number; ohaConcurrency: number; auditDeadlineS: number } = {
  ...SCENARIOS[scenarioName],
};
const envInt = (k: string, d: number, min: number, max: number) => intOption(k, process.env[k] ?? String(d), min, max);
const { targets, replicas, workers, warmupUsers, warmupFlows, vacuum, ports, NGINX_PORT } = optionsOrExit(() => {
  const named = args.targets!.split(",").map((t) => t.trim());
  const targets = named.filter((t): t is Target => t === "bun" || t === "node");
  if (targets.length === 0 || targets.length !== named.length)
    throw new OptionError(`--targets must be bun, node or bun,node, got ${JSON.stringify(args.targets)}`);
  if (args.via !== "direct" && args.via !== "nginx")
    throw new OptionError(`--via must be direct or nginx, got ${JSON.stringify(args.via)}`);
  if (args.topology !== "pgbouncer" && args.topology !== "direct")
    throw new OptionError(`--topology must be pgbouncer or direct, got ${JSON.stringify(args.topology)}`);
  if (args.rounds) sc.rounds = intOption("--rounds", args.rounds, 1, 100);
  if (args.users) sc.users = intOption("--users", args.users, 1, 100_000);
  return {
    targets,
    replicas: envInt("BENCH_API_REPLICAS", availableParallelism(), 1, 64),
    workers: envInt("BENCH_WORKER_REPLICAS", 2, 1, 64),
    // The measured flow's own size, twice: a service runs warm, and a first flow of a size still pays
    // for compiling code. Why two and not more: bench/FINDINGS.md, "Warm-up". The report shows each
    // warm-up's CPU per request and its helper threads', so the settling is seen.
    warmupUsers: envInt("BENCH_WARMUP_USERS", sc.users, 1, 100_000),
    warmupFlows: envInt("BENCH_WARMUP_FLOWS", 2, 0, 10),
    vacuum: envInt("BENCH_VACUUM", 1, 0, 1) === 1,
    ports: { bun: envInt("BENCH_BUN_PORT", 3000, 1, 65535), node: envInt("BENCH_NODE_PORT", 3001, 1, 65535) } as Record<Target, number>,
    NGINX_PORT: envInt("NGINX_PORT", 8080, 1, 65535),
  };
});
const log = (line: string) => process.stderr.write(`${line}\n`);

const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const outDir = join(ROOT, "bench/results", `${stamp}-${scenarioName}`);
const started: Started[] = [];
/** The stack's processes on this machine, found once it is up: the report splits the rest's CPU by them. */
let stackPids: StackPids = {};

/** The stack's services the bench started (they were not running): it stops them when it ends. */
let stackStarted: string[] = [];
const baseConfig = loadConfig();
const store = optionsOrExit(() => benchStore(baseConfig, process.env.BENCH_DATABASE || undefined, args.topology as "pgbouncer" | "direct"));
const sharedEnv: Record<string, string> = { LOG_LEVEL: "warn", HTTP_IDLE_TIMEOUT_S: "255", ...store.env };

async function startTarget(t: Target): Promise<Started> {
  await assertPortFree(ports[t]);
  const cmd = t === "bun" ? [process.execPath, join(ROOT, "api/src/main.ts")] : [process.execPath, "run", "--cwd", ROOT, "api:node"];
  const s = start(
    `api-${t}`,
    cmd,
    {
      ...sharedEnv,
      PORT: String(ports.bun),
      API_REPLICAS: String(replicas),
      NODE_PORT: String(ports.node),
      NODE_API_REPLICAS: String(replicas),
    },
    join(outDir, `api-${t}.log`),
  );
  started.push(s);
  return s;
}

/** `label` names the run's rows (tag `bench-<stamp>-<target>-<label>-<user>`): the audit finds a flow's rows by that prefix, so no label may extend another. */
/** Where the load goes for a target: its own port, or nginx in front of it. */
const baseOf = (t: Target) => `http://127.0.0.1:${args.via === "nginx" ? NGINX_PORT : ports[t]}`;

async function nginxFor(t: Target): Promise<void> {
  await run([join(ROOT, "infra/stack"), "down", "nginx"]);
  await run([join(ROOT, "infra/stack"), "up", "nginx"], { NGINX_PORT: String(NGINX_PORT), NGINX_UPSTREAMS: `127.0.0.1:${ports[t]}` });
}

type FlowRound = FlowOutput & { tag: string; runnerCpuS: number };

async function flowRound(t: Target, round: number, users = sc.users, label = String(round)): Promise<FlowRound> {
  const file = join(outDir, `flow-${t}-${label}.json`);
  const tag = `bench-${stamp}-${t}-${label}`;
  const p = Bun.spawn(
    [
      process.execPath,
      join(import.meta.dir, "flow/runner-cli.ts"),
      "--base",
      baseOf(t),
      "--users",
      String(users),
      "--target",
      t,
      "--round",
      String(round),
      "--tag",
      tag,
      "--out",
      file,
    ],
    { stdout: "inherit", stderr: "inherit" },
  );
  if ((await p.exited) !== 0) throw new Error(`flow runner failed for ${t} round ${round}`);
  const runnerCpuS = Number(p.resourceUsage()?.cpuTime.total ?? 0n) / 1e6;
  return { ...((await Bun.file(file).json()) as FlowOutput), tag, runnerCpuS };
}

/** A flow round with the CPU the machine spent while it ran and what its TCP did (where /proc/net has it), kept in its FlowRun. */
async function flowWithCounters(
  procs: { api: Started; workers: Started },
  t: Target,
  round: number,
  users?: number,
  label?: string,
): Promise<FlowRound & { flow: FlowRun & { cpu: FlowCpu } }> {
  const mark = () => cpuMark(procs.api.proc.pid, procs.workers.proc.pid, stackPids);
  const tcpBefore = readTcpCounters();
  const before = mark();
  const out = await flowRound(t, round, users, label);
  const cpu = cpuBetween(before, mark(), out.runnerCpuS, availableParallelism(), out.flow.requests);
  const tcpAfter = readTcpCounters();
  const tcp = tcpBefore && tcpAfter ? tcpBetween(tcpBefore, tcpAfter, out.flow.requests) : undefined;
  return { ...out, flow: { ...out.flow, cpu, ...(tcp && { tcp }) } };
}

async function ohaRound(oha: string, t: Target, round: number, apiPid: number): Promise<OhaRun[]> {
  const base = baseOf(t);
  const json = { "content-type": "application/json" };
  const body = JSON.stringify({ name: `bench-oha-${t}`, steps: [{ name: "t", type: "transform", config: { output: "{{input.x}}" } }] });
  // The ids the GET endpoints read: without them oha would measure 404s.
  const created = async (path: string, payload: string, status: number) => {
    const res = await fetch(`${base}${path}`, { method: "POST", headers: json, body: payload });
    if (res.status !== status) throw new Error(`oha setup: POST ${path} answered ${res.status}, not ${status}: ${await res.text()}`);
    return res.json();
  };
  const wf = await created("/api/v1/workflows", body, 201);
  const trig = await created("/api/v1/trigger", JSON.stringify({ workflow_id: wf.id }), 202);
  const endpoints: OhaEndpoint[] = [
    { name: "/health", method: "GET", path: "/health" },
    { name: "/api/v1/workflows/{id}", method: "GET", path: `/api/v1/workflows/${wf.id}` },
    { name: "/api/v1/runs/{id}", method: "GET", path: `/api/v1/runs/${trig.run_id}` },
    { name: "/api/v1/runs?limit=50", method: "GET", path: "/api/v1/runs?limit=50" },
    { name: "/api/v1/workflows", method: "POST", path: "/api/v1/workflows", body },
    { name: "/api/v1/trigger", method: "POST", path: "/api/v1/trigger", body: JSON.stringify({ workflow_id: wf.id, input: { x: 1 } }) },
  ];
  const out: OhaRun[] = [];
  for (const ep of endpoints) {
    const cpuBefore = treeCpuSeconds(apiPid);
    const run = await runOha(oha, base, ep, { target: t, round, concurrency: sc.ohaConcurrency, durationS: sc.ohaSeconds });
    const r = { ...run, api_cpu_us_per_request: usPerRequest(treeCpuSeconds(apiPid) - cpuBefore, run.requests) };
    log(
      `[oha ${t} r${round}] ${ep.method} ${ep.name}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99_ms} ms, success ${(r.success_rate * 100).toFixed(2)}%; API ${r.api_cpu_us_per_request} µs per request`,
    );
    out.push(r);
  }
  return out;
}

async function versions(nodeVersion: string | undefined, oha: string | undefined): Promise<Record<string, string>> {
  const v: Record<string, string> = { bun: Bun.version };
  if (nodeVersion) v.node = nodeVersion;
  const tryRun = async (k: string, cmd: string[], pick: (s: string) => string) => {
    try {
      v[k] = pick(await run(cmd));
    } catch {
      /* not installed */
    }
  };
  // PgBouncer's own answer: infra/stack runs a build of its own, not the one on PATH.
  await tryRun("pgbouncer", ["psql", withDatabase(baseConfig.databaseUrl, "pgbouncer"), "-XAtc", "SHOW VERSION"], (s) => s.trim());
  await tryRun("redis", ["redis-server", "--version"], (s) => /v=(\S+)/.exec(s)?.[1] ?? s.trim());
  if (oha) await tryRun("oha", [oha, "--version"], (s) => s.trim());
  const kafkaLibs = (await run(["bash", "-c", `ls -d ${join(ROOT, ".stack/kafka")}/libs-* 2>/dev/null || true`])).trim().split("\n").pop();
  if (kafkaLibs) v.kafka = kafkaLibs.replace(/.*libs-/, "");
  return v;
}

async function main(): Promise<number> {
  const t0 = new Date();
  const commit = await gitCommit(ROOT);
  // oha first: when it cannot be had, nothing has been started that would need stopping.
  const oha = args["skip-oha"] ? undefined : await ensureOha(log);
  mkdirSync(outDir, { recursive: true });
  stackStarted = await stackUp(ROOT, log);
  stackPids = findStackPids(stackPorts(baseConfig));
  const found = Object.entries(stackPids).map(([s, pid]) => `${s} ${pid}`);
  log(`[bench] CPU of the stack, by service, from: ${found.length > 0 ? found.join(", ") : "no service found on this machine"}`);
  log(`[bench] database ${store.database} and topic ${store.runsTopic}: created empty (an earlier bench's are dropped)`);
  await recreateStore(baseConfig, store);
  const sql = createSql(baseConfig, store.directUrl, 2);
  const flow: FlowRun[] = [];
  const warmups: WarmupRun[] = [];
  const ohaRuns: OhaRun[] = [];
  const audits: Audit[] = [];
  let nodeVersion: string | undefined;
  try {
    // Workers run for the whole bench: the audit needs every accepted run executed.
    const w = start(
      "workers",
      [process.execPath, join(ROOT, "worker/src/main.ts")],
      { ...sharedEnv, WORKER_REPLICAS: String(workers) },
      join(outDir, "workers.log"),
    );
    started.push(w);
    for (let round = 1; round <= sc.rounds; round++) {
      // Alternate which target goes first, so drift over time does not favour one of them.
      const order = round % 2 === 1 ? targets : [...targets].reverse();
      for (const t of order) {
        log(`[bench] round ${round}/${sc.rounds}: ${t}, ${sc.users} users, ${replicas} replica(s)`);
        const api = await startTarget(t);
        await waitHttp(`http://127.0.0.1:${ports[t]}/health/ready`, 60_000, api);
        if (args.via === "nginx") await nginxFor(t);
        if (t === "node") nodeVersion ??= (await (await fetch(`http://127.0.0.1:${ports[t]}/`)).json()).runtime_version;
        // The same unrecorded warm-up for both targets: pools connected, code compiled (JIT).
        for (let k = 1; k <= warmupFlows; k++) {
          const { flow: f } = await flowWithCounters({ api, workers: w }, t, round, warmupUsers, `warmup${round}-${k}`);
          warmups.push({
            target: t,
            round,
            index: k,
            users: f.users,
            requests: f.requests,
            failed: f.failed,
            throughput_rps: f.throughput_rps,
            api_us_per_request: f.cpu.api_us_per_request,
            api_helper_threads_us_per_request: f.cpu.api_helper_threads_us_per_request,
          });
          log(
            `[warm-up ${t} r${round} ${k}/${warmupFlows}] ${f.throughput_rps} req/s, failed ${f.failed}; API ${f.cpu.api_us_per_request} µs per request, ${f.cpu.api_helper_threads_us_per_request} on helper threads`,
          );
        }
        const backlog = await quiesce(sql, { since: t0, deadlineS: sc.auditDeadlineS, onWait: log });
        if (backlog > 0)
          log(`[bench] WARNING: ${backlog} earlier run(s) still executing after ${sc.auditDeadlineS} s; the round starts anyway`);
        if (vacuum) {
          const v = await vacuumStore(sql);
          log(
            v.tables.length > 0
              ? `[bench] VACUUM (ANALYZE) of ${v.tables.join(", ")}: ${v.seconds.toFixed(1)} s`
              : `[bench] WARNING: no table of ${store.database} belongs to the bench's database user, so none was vacuumed`,
          );
        }
        const out = await flowWithCounters({ api, workers: w }, t, round);
        const cpu = out.flow.cpu;
        flow.push(out.flow);
        log(
          `[flow ${t} r${round}] ${out.flow.requests} requests in ${out.flow.wall_s} s: ${out.flow.throughput_rps} req/s, p99 ${out.flow.overall.p99_ms} ms, failed ${out.flow.failed}`,
        );
        log(
          `[cpu ${t} r${round}] machine ${cpu.machine_busy_pct}% busy over ${cpu.window_s} s; CPU-s: API ${cpu.api_s}, workers ${cpu.workers_s}, flow runner ${cpu.runner_s}, rest ${cpu.rest_s}${
            cpu.stack_s
              ? ` (${Object.entries(cpu.stack_s)
                  .map(([k, v]) => `${k} ${v}`)
                  .join(", ")})`
              : ""
          }; API ${cpu.api_us_per_request} µs per request, ${cpu.api_kernel_us_per_request} of it in the kernel, ${cpu.api_helper_threads_us_per_request} on helper threads`,
        );
        const tcp = out.flow.tcp;
        if (tcp)
          log(
            `[tcp ${t} r${round}] machine-wide: listen queue overflows ${tcp.listen_overflows}, SYN cookies ${tcp.syncookies_sent}, SYN retransmits ${tcp.syn_retransmits}, segments retransmitted ${tcp.retransmitted_segments}; ${tcp.segments_per_request} segments sent per request`,
          );
        const a = await audit(sql, {
          target: t,
          round,
          tag: out.tag,
          accepted_runs: out.accepted_runs,
          workflows_created: out.workflows_created,
          deadlineS: sc.auditDeadlineS,
          onWait: log,
        });
        audits.push(a);
        log(`[audit ${t} r${round}] ${a.passed ? "passed" : `FAILED: ${a.problems.join("; ")}`}`);
        if (oha) ohaRuns.push(...(await ohaRound(oha, t, round, api.proc.pid)));
        // Still ours at the end: had it died, another process on the port would have answered.
        assertRunning(api);
        await api.stop();
        started.splice(started.indexOf(api), 1);
      }
    }
  } finally {
    await sql.end();
    await stopStarted();
  }

  const cmp = comparisons(flow, ohaRuns);
  const results: BenchResults = {
    scenario: scenarioName,
    started_at: t0.toISOString(),
    finished_at: new Date().toISOString(),
    ...(commit && { commit }),
    machine: {
      cores: availableParallelism(),
      memory_gib: Math.round(totalmem() / 2 ** 30),
      cpu_model: cpus()[0]?.model ?? "unknown",
      os: type(),
      kernel: release(),
    },
    versions: await versions(nodeVersion, oha),
    config: {
      users: sc.users,
      warmup_users: warmupUsers,
      warmup_flows: warmupFlows,
      vacuum_before_flow: vacuum,
      rounds: sc.rounds,
      topology: args.topology!,
      via: args.via!,
      database: store.database,
      api_replicas: replicas,
      worker_replicas: workers,
      oha_seconds: sc.ohaSeconds,
      oha_concurrency: sc.ohaConcurrency,
      targets: targets.join(","),
      listen_backlog: baseConfig.listenBacklog,
      ...listenQueueSettings(),
    },
    flow,
    warmups,
    oha: ohaRuns,
    audit: audits,
    comparisons: cmp,
    targets: checkTargets(
      sc.users,
      flow,
      audits.every((a) => a.passed),
      cmp,
    ),
    reference: REFERENCE,
    notes: [
      "Everything runs on this one machine: load generator, API replicas, workers, PostgreSQL, PgBouncer, Redis, Kafka.",
      "Bun and Node are measured alternately on the same infrastructure with the same number of replicas; only one of them runs at a time.",
      `Before each measured flow the freshly started target serves ${warmupFlows} unrecorded warm-up flow(s) of ${warmupUsers} users (connection pools filled, code compiled), the same for both.`,
      "Before each measured flow the bench waits until the workers have finished every run it created earlier (the previous round's oha triggers, the warm-up), so no round runs on top of another's backlog.",
      ...(vacuum
        ? [
            "Then it vacuums and analyzes its database (VACUUM (ANALYZE), as pgbench does), so that autovacuum of the warm-ups' rows does not start inside a measured flow.",
          ]
        : []),
      "The reference rows are the seed reports' published figures on their own hardware: context, not a same-machine comparison.",
      `Each bench starts on an empty store of its own: database ${store.database}, topics ${store.runsTopic} and ${store.deadLetterTopic}, consumer group ${store.groupId}.`,
      ...[shortFlowNote(flow)].filter((n) => n !== undefined),
    ],
  };
  // Kept in the results, so that the report, rendered again later, compares with this same baseline.
  const baseline = readBaseline(scenarioName);
  if (baseline.ok) results.baseline = baseline.baseline;
  await Bun.write(join(outDir, "results.json"), JSON.stringify(results, null, 2));
  const renderer = join(import.meta.dir, "report/render.ts");
  if (existsSync(renderer)) await (await import(renderer)).renderReport(results, outDir);
  log(`[bench] report: ${join(outDir, "report.md")}`);
  for (const c of results.targets) log(`[bench] ${c.met ? "met    " : "NOT MET"} ${c.name}: ${c.value} (target ${c.threshold})`);
  for (const line of baselineSummary(extractBaseline(results), baseline)) log(line);
  return audits.every((a) => a.passed) ? 0 : 1;
}

/** Stops what the bench started: the targets and workers, nginx, and the services of the stack that were down before. */
async function stopStarted(): Promise<void> {
  for (const s of started.splice(0).reverse()) await s.stop();
  if (args.via === "nginx") await run([join(ROOT, "infra/stack"), "down", "nginx"]).catch(() => {});
  if (stackStarted.length > 0) await run([join(ROOT, "infra/stack"), "down", ...stackStarted.splice(0)]).catch(() => {});
}

process.on("SIGINT", async () => {
  await stopStarted();
  process.exit(130);
});
try {
  process.exit(await main());
} catch (err) {
  // What went wrong, said once and plainly (a missing oha, a stack that did not start, a failed
  // flow runner), after everything the bench started is stopped.
  console.error(`[bench] stopped: ${err instanceof Error ? err.message : String(err)}`);
  await stopStarted();
  process.exit(1);
}
