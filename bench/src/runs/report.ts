import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { BaselineRow } from "../baseline/against.ts";
import { blockWriter, type ChartSpec } from "../report/blocks.ts";
import { int, inUnit, ms } from "../report/format.ts";
import { toHtml } from "../report/html.ts";
import { toMarkdown } from "../report/markdown.ts";
import type { Stats } from "../results.ts";
import type { LoadStep, RunsResults } from "./results.ts";

/** The targets of the execution-bench issue, on this 2-core machine with everything co-located. */
export const RUN_TARGETS = { sequentialP50Ms: 4, sequentialP99Ms: 15, runsPerS: 5000, fanOut100Ms: 100 } as const;

const pcts = (s: Stats) => [ms(s.p50_ms), ms(s.p90_ms), ms(s.p99_ms), ms(s.max_ms)];
const mark = (ok: boolean) => (ok ? "✅" : "❌");

/** Whether each target of the issue is met by this run, in words. */
export function targetLines(r: RunsResults): string[] {
  const out: string[] = [];
  const seq = r.sequential.find((s) => s.shape === "chain-3");
  if (seq) {
    const { p50_ms: p50, p99_ms: p99 } = seq.service_complete;
    out.push(
      `${mark(p50 <= RUN_TARGETS.sequentialP50Ms)} chain-3 one at a time, trigger → complete p50 ≤ ${RUN_TARGETS.sequentialP50Ms} ms: ${ms(p50)} ms`,
    );
    out.push(
      `${mark(p99 <= RUN_TARGETS.sequentialP99Ms)} chain-3 one at a time, trigger → complete p99 ≤ ${RUN_TARGETS.sequentialP99Ms} ms: ${ms(p99)} ms`,
    );
  }
  const best = Math.max(0, ...r.load.filter((l) => l.shape === "chain-3" && l.lost === 0).map((l) => l.completed_rps));
  out.push(
    `${mark(best >= RUN_TARGETS.runsPerS)} ≥ ${int(RUN_TARGETS.runsPerS)} runs/s of chain-3 with none lost: ${int(best)} runs/s at best`,
  );
  const fan = r.sequential.find((s) => s.shape === "fanout-100");
  if (fan)
    out.push(
      `${mark(fan.service_complete.p50_ms < RUN_TARGETS.fanOut100Ms)} fanout-100 one at a time, trigger → complete p50 under ${RUN_TARGETS.fanOut100Ms} ms: ${ms(fan.service_complete.p50_ms)} ms`,
    );
  if (r.parked)
    out.push(
      `${mark(r.parked.leased_while_parked === 0 && r.parked.lost === 0)} a parked run holds no worker: ${int(r.parked.runs)} runs in a ${int(r.parked.delay_ms)} ms delay, ${r.parked.leased_while_parked} held a worker, ${r.parked.lost} lost`,
    );
  const lost = r.load.reduce((a, l) => a + l.lost, 0);
  out.push(
    `${mark(lost === 0 && r.audit.length === 0)} every accepted run terminal exactly once: ${lost} lost, ${r.audit.length} audit problem(s)`,
  );
  return out;
}

function loadRow(l: LoadStep): string[] {
  return [
    l.shape,
    l.mode === "open" ? `${int(l.offered_rps ?? 0)}/s` : `closed, c${l.concurrency}`,
    int(l.accepted),
    int(l.completed_rps),
    int(l.steps_per_s),
    ...[l.service_start.p50_ms, l.service_complete.p50_ms, l.service_complete.p99_ms].map(ms),
    ms(l.trigger_p99_ms),
    String(l.lost),
    String(l.duplicate_steps),
  ];
}

function cpuRows(load: LoadStep[]): string[][] {
  return load
    .filter((l) => l.cpu)
    .map((l) => {
      const c = l.cpu!.per_run_us;
      const stack = (["postgres", "pgbouncer", "kafka", "redis"] as const).map((k) => (c[k] === undefined ? "—" : int(c[k])));
      return [
        l.shape,
        l.mode === "open" ? `${int(l.offered_rps ?? 0)}/s` : `c${l.concurrency}`,
        int(c.machine),
        int(c.api),
        int(c.workers),
        ...stack,
        int(c.load_generator),
        `${l.cpu!.machine_busy_pct}%`,
      ];
    });
}

function charts(r: RunsResults): ChartSpec[] {
  const out: ChartSpec[] = [];
  for (const shape of Object.keys(r.knee)) {
    const open = r.load.filter((l) => l.shape === shape && l.mode === "open");
    if (open.length < 2) continue;
    const labels = open.map((l) => String(l.offered_rps));
    out.push({
      id: `rate-${shape}`,
      title: `${shape}: completed runs/s and p99 trigger → complete, by offered rate`,
      config: {
        type: "line",
        data: {
          labels,
          datasets: [
            { label: "offered runs/s", data: open.map((l) => l.offered_rps), borderColor: "#adb5bd", yAxisID: "y" },
            { label: "completed runs/s", data: open.map((l) => l.completed_rps), borderColor: "#e8590c", yAxisID: "y" },
            { label: "p99 ms", data: open.map((l) => l.service_complete.p99_ms), borderColor: "#4c6ef5", yAxisID: "y1" },
          ],
        },
        options: {
          scales: { y: { beginAtZero: true, position: "left" }, y1: { beginAtZero: true, position: "right", type: "logarithmic" } },
        },
      },
    });
  }
  return out;
}

/** Published figures for the same 3-step trivial workflow (a public cross-engine harness; other hardware). */
export const PUBLISHED_PEERS: Array<{ engine: string; p50_ms: number; runs_per_s: number }> = [
  { engine: "Restate", p50_ms: 4.1, runs_per_s: 2057 },
  { engine: "Windmill", p50_ms: 103, runs_per_s: 152 },
  { engine: "Temporal", p50_ms: 119, runs_per_s: 39 },
  { engine: "Inngest", p50_ms: 260, runs_per_s: 90 },
];

function peersSection(w: ReturnType<typeof blockWriter>, r: RunsResults): void {
  const ours = r.sequential.find((s) => s.shape === "chain-3");
  const closed = r.load.find((l) => l.shape === "chain-3" && l.mode === "closed");
  const ratio = (a: number, b: number) => (a > 0 && b > 0 ? `${(a / b).toFixed(1)}×` : "—");
  if (r.peers && r.peers.length > 0) {
    w.p(
      `The same 3-step workflow on peer engines installed from their own packages, measured in this run after ours with our API and workers stopped, with the same load generator: one at a time as the client sees it (${int(r.setup.sequential_runs)} runs), then oha at ${closed ? closed.concurrency : "the same"} connections against each engine's synchronous trigger (a 2xx is a completed run). How each is run: \`bench/src/runs/peers/README.md\`.`,
    );
    const rows = [
      [
        "this engine",
        "—",
        ours ? ms(ours.client_complete.p50_ms) : "—",
        ours ? ms(ours.client_complete.p99_ms) : "—",
        closed ? int(closed.completed_rps) : "—",
        "",
        "",
      ],
      ...r.peers.map((p) => [
        p.peer,
        p.version,
        p.sequential ? ms(p.sequential.completed.p50_ms) : (p.error ?? "—"),
        p.sequential ? ms(p.sequential.completed.p99_ms) : "—",
        p.oha ? int(p.oha.completed_per_s) : (p.oha_skipped ?? "—"),
        ours && p.sequential ? ratio(p.sequential.completed.p50_ms, ours.client_complete.p50_ms) : "—",
        closed && p.oha ? ratio(closed.completed_rps, p.oha.completed_per_s) : "—",
      ]),
    ];
    w.table(
      ["engine", "version", "one at a time p50 ms", "p99 ms", "runs/s (closed loop)", "our latency advantage", "our throughput advantage"],
      rows,
    );
  } else w.p("No peer measured in this run (`--peers all` measures Restate, DBOS and graphile-worker on this box).");
  w.p(
    "Published figures for the same workflow, from a public cross-engine harness on other hardware (for orientation, not comparable figure for figure):",
  );
  w.table(
    ["engine", "p50 ms", "runs/s"],
    PUBLISHED_PEERS.map((p) => [p.engine, ms(p.p50_ms), int(p.runs_per_s)]),
  );
}

export function buildRunsReport(r: RunsResults, against: BaselineRow[] | undefined) {
  const w = blockWriter();
  w.h1("Execution bench: how fast runs are executed");
  w.p(
    `Runs of trivial workflows (no I/O in their steps) executed by ${r.setup.worker_replicas} worker process(es) behind ${r.setup.api_replicas} API replica(s), on ${r.machine.cores} cores shared with PostgreSQL, PgBouncer, Redis, Kafka and the load generator (oha). Timings are the engine's own (created_at → started_at → finished_at) unless marked as the client's. Commit \`${r.commit ?? "unknown"}\`, ${r.started_at}.`,
  );
  w.h2("Targets", "targets");
  w.list(targetLines(r));
  w.h2("Against the baseline", "baseline");
  if (!against) w.p("No baseline (`bench/baselines/runs.json`): write one with `bun run bench:runs --write-baseline`.");
  else
    w.table(
      ["figure", "this run", "baseline", "change"],
      against.map((a) => [
        a.figure,
        `${inUnit(a.now, a.unit)} ${a.unit}`,
        `${inUnit(a.base, a.unit)} ${a.unit}`,
        a.changePct === null
          ? "—"
          : `${a.changePct >= 0 ? "+" : ""}${a.changePct.toFixed(1)}%${a.direction === "worse" ? " **worse**" : ""}`,
      ]),
    );
  w.h2("One at a time", "sequential");
  w.p("Each run triggered only after the one before was seen completed by the client (polling `GET /api/v1/runs/{id}`).");
  w.table(
    ["shape", "runs", "measure", "p50 ms", "p90 ms", "p99 ms", "max ms"],
    r.sequential.flatMap((s) => [
      [s.shape, int(s.runs), "trigger → start (engine)", ...pcts(s.service_start)],
      [s.shape, "", "trigger → complete (engine)", ...pcts(s.service_complete)],
      [s.shape, "", "trigger → 202 (client)", ...pcts(s.client_accepted)],
      [s.shape, "", "trigger → complete seen (client)", ...pcts(s.client_complete)],
    ]),
  );
  w.h2("Under load", "load");
  w.p(
    "oha sends triggers closed loop (a fixed number of connections, each sending as soon as its last trigger was accepted) or open loop (a fixed arrival rate); every accepted run is then waited for. Completed runs/s counts completions from the first trigger to the last completion. Lost: accepted but never terminal. Duplicate steps: runs with a step executed more than once.",
  );
  w.table(
    [
      "shape",
      "load",
      "accepted",
      "completed runs/s",
      "steps/s",
      "start p50 ms",
      "complete p50 ms",
      "complete p99 ms",
      "trigger p99 ms",
      "lost",
      "dup. steps",
    ],
    r.load.map(loadRow),
  );
  const knees = Object.entries(r.knee).map(([s, k]) => `${s}: ${k === null ? "below the lowest rate tried" : `${int(k)} runs/s offered`}`);
  w.p(
    `The knee (the highest offered rate whose completions kept up, at least 95 % of it, with none lost and p99 under 1 s): ${knees.join("; ")}.`,
  );
  const ch = charts(r);
  if (ch.length > 0) w.charts(ch);
  w.h2("Where the CPU goes", "cpu");
  w.p("CPU µs per completed run during each load step, from /proc: the whole machine, the API, the workers, each stack service, and oha.");
  w.table(["shape", "load", "machine", "API", "workers", "PostgreSQL", "PgBouncer", "Kafka", "Redis", "oha", "busy"], cpuRows(r.load));
  w.h2("Kafka's floor", "kafka");
  if (r.kafka_hop)
    w.p(
      `One message at a time from a kafkajs producer (acks -1, as the API sends) to a kafkajs consumer's batch handler (as the workers receive): **${ms(r.kafka_hop.hop.p50_ms)} ms** p50, ${ms(r.kafka_hop.hop.p90_ms)} p90, ${ms(r.kafka_hop.hop.p99_ms)} p99; the producer's ack came after ${ms(r.kafka_hop.ack.p50_ms)} ms p50. No run that crosses Kafka starts sooner than this after its trigger is committed.`,
    );
  else w.p("Not measured in this run.");
  w.h2("The database's ceiling", "ceiling");
  const best = r.load.filter((l) => l.database && l.lost === 0).sort((a, b) => b.completed_rps - a.completed_rps)[0];
  if (r.ceiling.length === 0) w.p("Not measured (pgbench failed or is missing).");
  for (const c of r.ceiling) {
    // pgbench's transaction writes two rows (an insert and an update); the engine's rows per run say how many such a run costs.
    const share =
      best?.database && c.tps > 0
        ? ` The best load step wrote ${best.database.rows_written_per_run} rows per run at ${int(best.completed_rps)} runs/s: **${Math.round((100 * best.completed_rps * best.database.rows_written_per_run) / (2 * c.tps))} %** of the rows pgbench wrote a second.`
        : "";
    w.p(
      `pgbench, ${c.clients} clients for ${c.duration_s} s ${c.via === "pgbouncer" ? "through PgBouncer (the engine's path)" : "straight to PostgreSQL"}, a one-row insert then update in one transaction: **${int(c.tps)} tps**.${share}`,
    );
  }
  w.table(
    ["shape", "load", "commits per run", "rows written per run", "WAL bytes per run"],
    r.load
      .filter((l) => l.database)
      .map((l) => [
        l.shape,
        l.mode === "open" ? `${int(l.offered_rps ?? 0)}/s` : `c${l.concurrency}`,
        String(l.database!.commits_per_run),
        String(l.database!.rows_written_per_run),
        int(l.database!.wal_bytes_per_run),
      ]),
  );
  w.h2("Parked waits", "parked");
  if (!r.parked) w.p("Not measured in this run (`--parked 0`).");
  else {
    const p = r.parked;
    w.p(
      `${int(p.runs)} runs of a ${int(p.delay_ms)} ms delay then a transform, triggered 64 at a time: all parked ${p.all_parked_s} s after the first trigger, with **${p.leased_while_parked}** holding a worker. Beside them, chain-3 one at a time completed at p50 ${ms(p.chain3_while_parked.service_complete.p50_ms)} ms (trigger → complete). ${int(p.completed)} completed, ${p.lost} lost. How late each delay ended (its finish minus its start plus the delay; the timer's poll, the claim, Kafka and the terminal write):`,
    );
    w.table(["measure", "p50 ms", "p90 ms", "p99 ms", "max ms"], [["woke late by", ...pcts(p.late)]]);
  }
  w.h2("Peers", "peers");
  peersSection(w, r);
  w.h2("Audit", "audit");
  w.p(r.audit.length === 0 ? "Every accepted run reached exactly one terminal state; no step ran twice." : r.audit.join(" "));
  w.h2("Setup", "setup");
  w.list([
    `${r.machine.cores} cores (${r.machine.cpu_model}), ${r.machine.memory_gib} GiB, ${r.machine.os}`,
    `API replicas ${r.setup.api_replicas}, worker processes ${r.setup.worker_replicas} × concurrency ${r.setup.worker_concurrency}, PostgreSQL through PgBouncer`,
    `Versions: ${Object.entries(r.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
    ...r.shapes.map((s) => `${s.name} (${s.steps} steps): ${s.description}`),
  ]);
  return w.blocks;
}

export async function renderRunsReport(r: RunsResults, against: BaselineRow[] | undefined, dir: string): Promise<void> {
  const blocks = buildRunsReport(r, against);
  await mkdir(dir, { recursive: true });
  await Bun.write(join(dir, "report.md"), toMarkdown(blocks));
  await Bun.write(join(dir, "report.html"), toHtml(blocks, "Execution bench"));
}
