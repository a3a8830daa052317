/**
 * The report as a list of blocks (headings, sentences, tables, lists, charts), built once from
 * results.json and written out twice: as Markdown (charts left out) and as HTML (charts drawn).
 * So both files always say the same thing.
 *
 * Text may use **bold** and `code`; both renderers understand those two and nothing else.
 */
import { FLOW_STEPS, STACK_SERVICES, type StackService, type BenchResults, type FlowRun, type FlowStep, type OhaRun, type Stats, type Target, type WarmupRun } from "../results.ts";
import { FLOW_RATIO_TARGET } from "../compare.ts";
import { DASH, int, median, ms, pct, ratio, rps, sec, inUnit, range } from "./format.ts";

export type Align = "l" | "r";

export interface ChartSpec {
  id: string;
  title: string;
  /** A Chart.js configuration (JSON only: no callbacks), drawn by the inlined Chart.js. */
  config: { type: "bar" | "line"; data: unknown; options?: Record<string, unknown> };
  /** Taller charts for many categories. */
  height?: number;
  /** Spans the whole width of the page instead of half of it. */
  wide?: boolean;
}

export type Block =
  | { kind: "h1" | "h2" | "h3"; text: string; id?: string }
  | { kind: "p"; text: string }
  | { kind: "table"; head: string[]; rows: string[][]; align: Align[]; compact?: boolean }
  | { kind: "list"; items: string[] }
  | { kind: "charts"; charts: ChartSpec[] };

export const STEP_LABEL: Record<FlowStep, string> = {
  health: "GET /health",
  root: "GET /",
  create_workflow: "POST /api/v1/workflows",
  get_workflow: "GET /api/v1/workflows/{id}",
  trigger: "POST /api/v1/trigger",
  get_run: "GET /api/v1/runs/{id}",
  list_runs: "GET /api/v1/runs",
};

export const TARGET_LABEL: Record<Target, string> = { bun: "Bun", node: "Node" };
export const TARGETS: Target[] = ["bun", "node"];

/** Colours of the plots: Bun orange, Node green, the published reference rows grey-blue. */
export const COLOR = {
  bun: "#e8590c",
  bunLight: "#ffc078",
  node: "#2b8a3e",
  nodeLight: "#8ce99a",
  reference: ["#748ffc", "#adb5bd", "#4c6ef5", "#868e96"],
} as const;

const byRound = <T extends { round: number }>(xs: T[]): T[] => [...xs].sort((a, b) => a.round - b.round);
const errorPct = (f: FlowRun): number => (f.requests ? (100 * f.failed) / f.requests : 0);

/** One headline figure: per-target medians and the Bun/Node ratio of rounds paired in order. */
export interface Figure {
  metric: string;
  unit: string;
  higherIsBetter: boolean;
  bun: number[];
  node: number[];
  bunMedian: number;
  nodeMedian: number;
  ratio: number;
  ratioMin: number;
  ratioMax: number;
}

function figure(metric: string, unit: string, higherIsBetter: boolean, bun: number[], node: number[]): Figure {
  const pairs = Math.min(bun.length, node.length);
  const ratios: number[] = [];
  for (let i = 0; i < pairs; i++) if (node[i] !== 0) ratios.push(bun[i]! / node[i]!);
  return {
    metric,
    unit,
    higherIsBetter,
    bun,
    node,
    bunMedian: median(bun),
    nodeMedian: median(node),
    ratio: median(ratios),
    ratioMin: ratios.length ? Math.min(...ratios) : Number.NaN,
    ratioMax: ratios.length ? Math.max(...ratios) : Number.NaN,
  };
}

/** Whether any round of either target gave this figure: a section without one is left out. */
const anyRound = (f: Figure): boolean => f.bun.length + f.node.length > 0;

/** A figure's Bun, Node, Bun/Node and ratio-range cells. */
const figureCells = (f: Figure): string[] => [
  inUnit(f.bunMedian, f.unit),
  inUnit(f.nodeMedian, f.unit),
  ratio(f.ratio),
  Number.isFinite(f.ratioMin) ? `${ratio(f.ratioMin)}–${ratio(f.ratioMax)}` : DASH,
];

/**
 * What one part of each round (the round itself, its CPU, its TCP) gives, for the rounds that
 * recorded it: `f` makes a figure of it, Bun's and Node's rounds paired in the order they ran.
 */
function pairedRounds<T>(flow: FlowRun[], part: (r: FlowRun) => T | undefined) {
  const of = (t: Target) => byRound(flow.filter((r) => r.target === t && part(r) !== undefined)).map((r) => part(r)!);
  const [bun, node] = [of("bun"), of("node")];
  return {
    parts: [...bun, ...node],
    f: (metric: string, unit: string, pick: (x: T) => number, higherIsBetter = false) => figure(metric, unit, higherIsBetter, bun.map(pick), node.map(pick)),
  };
}

/** The headline figures of the flow runs (medians over rounds; ratios of paired rounds). */
export function headlineFigures(flow: FlowRun[]): Figure[] {
  const { f } = pairedRounds(flow, (r) => r);
  return [
    f("Throughput, all requests", "req/s", (r) => r.throughput_rps, true),
    f("Throughput, successful requests", "req/s", (r) => r.throughput_ok_rps, true),
    f("Latency p50", "ms", (r) => r.overall.p50_ms),
    f("Latency p90", "ms", (r) => r.overall.p90_ms),
    f("Latency p95", "ms", (r) => r.overall.p95_ms),
    f("Latency p99", "ms", (r) => r.overall.p99_ms),
    f("Latency max", "ms", (r) => r.overall.max_ms),
    f("Error rate", "%", errorPct),
    f("Wall time", "s", (r) => r.wall_s),
    f("Users completed", "users", (r) => r.users_completed, true),
  ];
}

/** A round's CPU with the flow's request count, so that machine-wide seconds can be put per request. */
const cpuPerRound = (r: FlowRun) => r.cpu && { ...r.cpu, requests: r.requests };
type RoundCpu = NonNullable<ReturnType<typeof cpuPerRound>>;
const perRequestUs = (c: RoundCpu, s: number) => (c.requests > 0 ? (s * 1e6) / c.requests : Number.NaN);
const machineUs = (c: RoundCpu) => perRequestUs(c, c.api_s + c.workers_s + c.runner_s + c.rest_s);
const outsideApiUs = (c: RoundCpu) => perRequestUs(c, c.workers_s + c.runner_s + c.rest_s);

/** How the machine's CPU was shared during the flows, for the rounds that recorded it. */
export function cpuFigures(flow: FlowRun[]): Figure[] {
  const { f, parts } = pairedRounds(flow, cpuPerRound);
  // Older results did not split user and kernel time.
  const split = parts.every((c) => c.api_kernel_us_per_request !== undefined);
  return [
    f("API CPU per request", "µs", (c) => c.api_us_per_request),
    ...(split
      ? [
          f("… of it in user space", "µs", (c) => c.api_us_per_request - c.api_kernel_us_per_request!),
          f("… of it in the kernel", "µs", (c) => c.api_kernel_us_per_request!),
        ]
      : []),
    ...(parts.every((c) => c.api_helper_threads_us_per_request !== undefined)
      ? [
          f("… of it on the main threads (event loops)", "µs", (c) => c.api_us_per_request - c.api_helper_threads_us_per_request!),
          f("… of it on the runtime's helper threads", "µs", (c) => c.api_helper_threads_us_per_request!),
        ]
      : []),
    f("Machine CPU per request", "µs", machineUs),
    f("… of it outside the API", "µs", outsideApiUs),
    f("API target", "s", (c) => c.api_s),
    f("Workers", "s", (c) => c.workers_s),
    f("Flow runner (the load generator)", "s", (c) => c.runner_s),
    f("Rest: PostgreSQL, PgBouncer, Redis, Kafka, kernel", "s", (c) => c.rest_s),
    ...stackRows(parts, f),
    f("Machine busy", "%", (c) => c.machine_busy_pct),
  ];
}

const STACK_LABEL: Record<StackService, string> = { postgres: "PostgreSQL", pgbouncer: "PgBouncer", redis: "Redis", kafka: "Kafka" };

/**
 * The rest split by the stack's services, for those every round measured (older results and
 * services elsewhere have none), and what is left of it: the kernel's own threads and the rest.
 */
function stackRows(parts: RoundCpu[], f: (metric: string, unit: string, get: (c: RoundCpu) => number) => Figure): Figure[] {
  const measured = STACK_SERVICES.filter((s) => parts.length > 0 && parts.every((c) => c.stack_s?.[s] !== undefined));
  if (measured.length === 0) return [];
  const of = (c: RoundCpu, s: StackService) => c.stack_s![s]!;
  return [
    ...measured.map((s) => f(`… of it ${STACK_LABEL[s]}`, "s", (c) => of(c, s))),
    f("… of it the kernel's threads and everything else", "s", (c) => Math.max(0, c.rest_s - measured.reduce((sum, s) => sum + of(c, s), 0))),
  ];
}

/**
 * What the flow-throughput target asks of the Bun API, as arithmetic on the medians of the CPU
 * figures: were the flow's throughput set by the machine's CPU per request alone, Bun/Node would be
 * Node's machine CPU per request over Bun's. Undefined unless both targets recorded their CPU.
 */
export function ratioBudget(cpu: Figure[], measuredRatio: number, target = FLOW_RATIO_TARGET) {
  const get = (metric: string) => cpu.find((f) => f.metric === metric);
  const [api, machine, outside] = [get("API CPU per request"), get("Machine CPU per request"), get("… of it outside the API")];
  if (!api || !machine || !outside || !api.bun.length || !machine.node.length) return undefined;
  return {
    target,
    measuredRatio,
    bunMachineUs: machine.bunMedian,
    nodeMachineUs: machine.nodeMedian,
    cpuRatio: machine.nodeMedian / machine.bunMedian,
    bunOutsideUs: outside.bunMedian,
    nodeOutsideUs: outside.nodeMedian,
    bunApiUs: api.bunMedian,
    /** The most the Bun API could cost per request for the target, the rest costing what it did. */
    bunApiAllowedUs: machine.nodeMedian / target - outside.bunMedian,
    /** Bun/Node with a Bun API that cost nothing. */
    ceiling: machine.nodeMedian / outside.bunMedian,
    nodeApiUs: api.nodeMedian,
    /**
     * Bun/Node with nothing but the API on the CPU (the rest on other machines): the most a flow
     * bound by CPU could give at these API costs, however the rest of the deployment is laid out.
     */
    apiBound: api.nodeMedian / api.bunMedian,
  };
}

/**
 * The API replicas each target ran with: the flow's ratio depends on it (on two shared cores one
 * replica each and two each gave very different ratios), so the report says it up front.
 */
function replicasPhrase(config: BenchResults["config"], both: boolean): string {
  const n = config.api_replicas;
  return typeof n === "number" ? `, ${int(n)} API replica${n === 1 ? "" : "s"}${both ? " per target" : ""}` : "";
}

/** What the machine's TCP did during the flows, for the rounds that recorded it. */
export function tcpFigures(flow: FlowRun[]): Figure[] {
  const { f } = pairedRounds(flow, (r) => r.tcp);
  return [
    f("Listen queue overflows", "handshakes", (c) => c.listen_overflows),
    f("SYN cookies sent", "handshakes", (c) => c.syncookies_sent),
    f("SYNs sent again", "segments", (c) => c.syn_retransmits),
    f("Segments sent again", "segments", (c) => c.retransmitted_segments),
    f("Segments sent", "per request", (c) => c.segments_per_request),
  ];
}

/**
 * The API's CPU per request in each warm-up and then in the measured flow: how far each target's
 * code had settled (compiled) when it was measured. One figure per step, medians over rounds.
 */
export function warmupFigures(warmups: WarmupRun[], flow: FlowRun[], get: (c: PerRequestCpu) => number | undefined = (c) => c.api_us_per_request): Figure[] {
  const steps = [...new Set(warmups.map((w) => w.index))].sort((a, b) => a - b);
  const of = (t: Target, k: number) => byRound(warmups.filter((w) => w.target === t && w.index === k)).map((w) => get(w) ?? Number.NaN);
  return [
    ...steps.map((k) => figure(`Warm-up ${k}`, "µs", false, of("bun", k), of("node", k))),
    pairedRounds(flow, (r) => r.cpu).f("Measured flow", "µs", (c) => get(c) ?? Number.NaN),
  ];
}

/** The API's CPU per request, as a warm-up and a measured flow both record it. */
type PerRequestCpu = Pick<WarmupRun, "api_us_per_request" | "api_helper_threads_us_per_request">;

/** Whether every warm-up and measured flow recorded the helper threads' part (older results did not). */
const helpersRecorded = (warmups: WarmupRun[], flow: FlowRun[]) =>
  [...warmups, ...flow.map((r) => r.cpu)].every((c) => c?.api_helper_threads_us_per_request !== undefined);

function better(fig: Figure): string {
  if (!Number.isFinite(fig.ratio)) {
    if (fig.bunMedian === fig.nodeMedian && fig.bun.length && fig.node.length) return "tie";
    return DASH;
  }
  if (Math.abs(fig.ratio - 1) < 0.005) return "tie";
  const bunWins = fig.higherIsBetter ? fig.ratio > 1 : fig.ratio < 1;
  const factor = fig.ratio > 1 ? fig.ratio : 1 / fig.ratio;
  const who = bunWins ? "Bun" : "Node";
  return Number.isFinite(factor) ? `${who} by ${ratio(factor)}` : who;
}

/** Per-endpoint statistics of one target over its rounds. */
export function stepAcrossRounds(runs: FlowRun[], step: FlowStep): Stats {
  const s = runs.map((r) => r.per_step[step]).filter(Boolean);
  const sum = (k: keyof Stats) => s.reduce((a, x) => a + x[k], 0);
  const med = (k: keyof Stats) => median(s.map((x) => x[k]));
  return {
    count: sum("count"),
    ok: sum("ok"),
    failed: sum("failed"),
    mean_ms: med("mean_ms"),
    p50_ms: med("p50_ms"),
    p90_ms: med("p90_ms"),
    p95_ms: med("p95_ms"),
    p99_ms: med("p99_ms"),
    min_ms: s.length ? Math.min(...s.map((x) => x.min_ms)) : Number.NaN,
    max_ms: s.length ? Math.max(...s.map((x) => x.max_ms)) : Number.NaN,
  };
}

const ERROR_LABEL: Record<string, string> = {
  timeout: "timeout",
  connection_refused: "connection refused",
  connection_reset: "connection reset / server disconnected",
  other: "other client-side error",
};
export const errorLabel = (cls: string): string => ERROR_LABEL[cls] ?? (cls.startsWith("http_") ? `HTTP ${cls.slice(5)}` : cls);

function boundLabel(le: number): string {
  return le >= 1000 ? `${(le / 1000).toLocaleString("en-US")} s` : `${le.toLocaleString("en-US")} ms`;
}

/** Requests per latency bucket, summed over a target's rounds (from the cumulative histograms). */
export function histogramBuckets(flow: FlowRun[]): { labels: string[]; counts: Record<Target, number[]> } {
  const bounds = [...new Set(flow.flatMap((f) => f.histogram.map((h) => h.le_ms)))].sort((a, b) => a - b);
  const labels = bounds.map((le, i) => (i === 0 ? `≤ ${boundLabel(le)}` : `${boundLabel(bounds[i - 1]!)} – ${boundLabel(le)}`));
  if (bounds.length) labels.push(`> ${boundLabel(bounds[bounds.length - 1]!)}`);
  const counts = { bun: labels.map(() => 0), node: labels.map(() => 0) } as Record<Target, number[]>;
  for (const f of flow) {
    const cum = new Map(f.histogram.map((h) => [h.le_ms, h.count]));
    let prev = 0;
    bounds.forEach((le, i) => {
      const c = cum.get(le) ?? prev;
      counts[f.target][i]! += c - prev;
      prev = c;
    });
    counts[f.target][bounds.length]! += Math.max(0, f.requests - prev);
  }
  // Keep the buckets from the first to the last non-empty one.
  const any = labels.map((_, i) => counts.bun[i]! + counts.node[i]! > 0);
  const first = any.indexOf(true);
  const last = any.lastIndexOf(true);
  if (first < 0) return { labels: [], counts: { bun: [], node: [] } };
  return {
    labels: labels.slice(first, last + 1),
    counts: { bun: counts.bun.slice(first, last + 1), node: counts.node.slice(first, last + 1) },
  };
}

/** oha figures of one endpoint: medians over rounds per target, Bun/Node ratios of paired rounds. */
export interface OhaLine {
  endpoint: string;
  method: string;
  concurrency: number;
  duration_s: number;
  rps: Figure;
  p50: Figure;
  p99: Figure;
  success: Figure;
  /** The API's CPU per request sent, where every round of the endpoint recorded it. */
  apiCpu?: Figure;
}

export function ohaLines(oha: OhaRun[]): OhaLine[] {
  const keys = [...new Set(oha.map((o) => `${o.method} ${o.endpoint}`))];
  return keys.map((key) => {
    const mine = oha.filter((o) => `${o.method} ${o.endpoint}` === key);
    const b = byRound(mine.filter((o) => o.target === "bun"));
    const n = byRound(mine.filter((o) => o.target === "node"));
    const f = (metric: string, unit: string, hib: boolean, pick: (o: OhaRun) => number) => figure(metric, unit, hib, b.map(pick), n.map(pick));
    return {
      endpoint: mine[0]!.endpoint,
      method: mine[0]!.method,
      concurrency: mine[0]!.concurrency,
      duration_s: mine[0]!.duration_s,
      rps: f("rps", "req/s", true, (o) => o.rps),
      p50: f("p50", "ms", false, (o) => o.p50_ms),
      p99: f("p99", "ms", false, (o) => o.p99_ms),
      // oha reports the success rate as a fraction.
      success: f("success", "%", true, (o) => (o.success_rate <= 1 ? o.success_rate * 100 : o.success_rate)),
      ...(mine.every((o) => o.api_cpu_us_per_request !== undefined) && {
        apiCpu: f("API CPU per request", "µs", false, (o) => o.api_cpu_us_per_request!),
      }),
    };
  });
}

const bar = (label: string, data: number[], color: string, extra: Record<string, unknown> = {}) => ({
  label,
  data: data.map((v) => (Number.isFinite(v) ? Math.round(v * 100) / 100 : null)),
  backgroundColor: color,
  borderColor: color,
  ...extra,
});

const axisTitle = (text: string) => ({ display: true, text });

function barChart(id: string, title: string, labels: string[], datasets: unknown[], yTitle: string, opts: { height?: number; logY?: boolean; wide?: boolean } = {}): ChartSpec {
  return {
    id,
    title,
    height: opts.height,
    wide: opts.wide,
    config: {
      type: "bar",
      data: { labels, datasets },
      options: {
        plugins: { title: { display: true, text: title }, legend: { position: "bottom" } },
        scales: { y: { type: opts.logY ? "logarithmic" : "linear", beginAtZero: !opts.logY, title: axisTitle(yTitle) } },
      },
    },
  };
}

/** Builds the whole report. */
export function buildReport(results: BenchResults): Block[] {
  // Tolerate a results.json written by an older runner: missing lists and maps are empty.
  const r: BenchResults = {
    ...results,
    flow: results.flow ?? [],
    oha: results.oha ?? [],
    audit: results.audit ?? [],
    comparisons: results.comparisons ?? [],
    targets: results.targets ?? [],
    reference: results.reference ?? [],
    notes: results.notes ?? [],
    versions: results.versions ?? {},
    config: results.config ?? {},
  };
  const out: Block[] = [];
  const h2 = (text: string, id: string) => out.push({ kind: "h2", text, id });
  const h3 = (text: string) => out.push({ kind: "h3", text });
  const p = (text: string) => out.push({ kind: "p", text });
  const table = (head: string[], rows: string[][], align?: Align[]) =>
    out.push({ kind: "table", head, rows, align: align ?? head.map((_, i) => (i === 0 ? "l" : "r")) });

  const runsOf = (t: Target) => byRound(r.flow.filter((f) => f.target === t));
  const present = TARGETS.filter((t) => runsOf(t).length > 0);
  const users = [...new Set(r.flow.map((f) => f.users))];
  const rounds = Math.max(0, ...present.map((t) => runsOf(t).length));
  const both = present.length === 2;

  out.push({ kind: "h1", text: `Benchmark report: ${r.scenario}` });
  p(
    `Measured from ${r.started_at} to ${r.finished_at} on one machine with ${int(r.machine.cores)} cores and ${int(r.machine.memory_gib)} GiB of memory (${r.machine.cpu_model}). ` +
      (r.flow.length
        ? `${present.map((t) => TARGET_LABEL[t]).join(" and ")}, ${int(rounds)} round${rounds === 1 ? "" : "s"}${both ? " each" : ""}${replicasPhrase(r.config, both)}, ${users.map(int).join(", ")} concurrent users running the 7-step flow.`
        : "No flow runs are in these results."),
  );

  // --- Headline -------------------------------------------------------------------------------
  h2("Headline: Bun against Node", "headline");
  const figs = headlineFigures(r.flow);
  if (r.flow.length === 0) p("No flow runs are in these results.");
  else {
    p(
      `Each virtual user runs the 7 steps of the original reports in order. Figures are the **median over rounds** of each target; ` +
        `**Bun/Node** is Bun's figure divided by Node's, the median of the rounds paired in the order they ran, and **ratio range** is its spread (min–max) over those pairs. ` +
        `For throughput and users completed a ratio above 1 favours Bun; for latency, errors and wall time a ratio below 1 does.`,
    );
    if (!both) p(`Only ${present.map((t) => TARGET_LABEL[t]).join(", ")} was measured, so there is no ratio.`);
    table(
      ["Metric", "Bun", "Node", "Bun/Node", "Ratio range", "Better"],
      figs.map((f) => [
        f.unit === "users" && users.length === 1 ? `${f.metric} (of ${int(users[0])})` : `${f.metric} (${f.unit})`,
        ...figureCells(f),
        better(f),
      ]),
      ["l", "r", "r", "r", "r", "l"],
    );
    p("Each round's own figures are in **Every round** below.");
    const pick = (names: string[]) => figs.filter((f) => names.includes(f.metric));
    const tp = pick(["Throughput, all requests", "Throughput, successful requests"]);
    // max is left to the table: one slow outlier would flatten the percentiles.
    const lat = pick(["Latency p50", "Latency p90", "Latency p95", "Latency p99"]);
    out.push({
      kind: "charts",
      charts: [
        barChart("headline-throughput", "Throughput, median of rounds (req/s)", tp.map((f) => f.metric.replace("Throughput, ", "")), [
          bar("Bun", tp.map((f) => f.bunMedian), COLOR.bun),
          bar("Node", tp.map((f) => f.nodeMedian), COLOR.node),
        ], "req/s"),
        barChart("headline-latency", "Latency of all requests, p50 to p99, median of rounds (ms)", lat.map((f) => f.metric.replace("Latency ", "")), [
          bar("Bun", lat.map((f) => f.bunMedian), COLOR.bun),
          bar("Node", lat.map((f) => f.nodeMedian), COLOR.node),
        ], "ms"),
      ],
    });
  }

  // --- Targets ----------------------------------------------------------------------------------
  h2("Targets", "targets");
  if (r.targets.length === 0) p("No targets were checked in this run.");
  else {
    const met = r.targets.filter((t) => t.met).length;
    p(`**${met} of ${r.targets.length}** targets met. Each line is exactly as the benchmark runner checked it.`);
    table(
      ["Result", "Target", "Threshold", "Measured"],
      r.targets.map((t) => [t.met ? "✅ met" : "❌ not met", t.name, t.threshold, t.value]),
      ["l", "l", "l", "l"],
    );
  }

  // --- CPU ------------------------------------------------------------------------------------
  const cpu = cpuFigures(r.flow);
  if (anyRound(cpu[0]!)) {
    h2("Where the CPU went during the flows", "cpu");
    p(
      "CPU seconds used while each measured flow ran, from Linux's /proc, median of rounds: the API target (its supervisor and replicas), the workers, the flow runner, and the rest of the machine. " +
        "Everything shares these cores, so the flow's throughput depends on all of them. **API CPU per request** is the API's CPU over the flow's requests: " +
        "the one figure here where only the runtime and the HTTP framework differ. Of it, the part **in user space** is the runtime, the framework, the drivers and the domain code; " +
        "the part **in the kernel** is system time spent on the API's behalf (its sockets to the clients, PgBouncer, Redis and Kafka, on loopback). " +
        "The same figure is split another way by thread: each process's **main thread** runs its event loop (the JavaScript, the HTTP server, the drivers), " +
        "and the runtime's **helper threads** compile code, mark and sweep for the garbage collector and return memory to the system. " +
        "**Machine CPU per request** is the whole machine's: the four parts below over the flow's requests. Lower is better; a Bun/Node ratio below 1 favours Bun.",
    );
    table(
      ["During the flow", "Bun", "Node", "Bun/Node", "Ratio range"],
      cpu.map((f) => [f.unit === "s" ? `${f.metric} (CPU-s)` : `${f.metric} (${f.unit})`, ...figureCells(f)]),
    );
    const budget = ratioBudget(cpu, figs[0]!.ratio);
    if (budget) {
      const us = (v: number) => `${int(v)} µs`;
      const allowed =
        budget.bunApiAllowedUs > 0
          ? `the Bun API could use at most **${us(budget.bunApiAllowedUs)}** per request, against the ${us(budget.bunApiUs)} it used`
          : `the work outside the API alone exceeds that, so no API could reach it on this machine`;
      p(
        `**What ${ratio(budget.target)} asks of the API.** Arithmetic on the medians above, not a measurement. Per flow request the machine spent ${us(budget.bunMachineUs)} of CPU under Bun and ${us(budget.nodeMachineUs)} under Node; ` +
          `were the flow's throughput set by CPU alone, Bun/Node would be ${ratio(budget.cpuRatio)} (measured: ${ratio(budget.measuredRatio)}). ` +
          `Of Bun's ${us(budget.bunMachineUs)}, ${us(budget.bunOutsideUs)} went outside the API (${us(budget.nodeOutsideUs)} under Node): the workers, the flow runner, the stack and the kernel's own threads. ` +
          `For ${ratio(budget.target)} the machine could spend at most ${us(budget.nodeMachineUs / budget.target)} per request under Bun; with everything outside the API costing what it did, ${allowed}. A Bun API that cost nothing would give at most ${ratio(budget.ceiling)}.`,
      );
      p(
        `**The bound set by the API alone.** Were the workers, the flow runner and the stack on other machines, a flow bound by CPU would give Bun/Node = Node's API CPU per request over Bun's: ` +
          `${us(budget.nodeApiUs)} / ${us(budget.bunApiUs)} = ${ratio(budget.apiBound)}. ` +
          (budget.apiBound >= budget.target
            ? `That clears ${ratio(budget.target)}: what the flow's ratio falls short of it, it loses to the work outside the API, which both targets share on this machine.`
            : `Wherever the rest runs, a flow bound by CPU reaches ${ratio(budget.target)} only if the Bun API uses at most ${ratio(1 / budget.target)} Node's CPU per request: ${us(budget.nodeApiUs / budget.target)} here, against the ${us(budget.bunApiUs)} it used.`),
      );
    }
    if (r.warmups?.length) {
      const users = [...new Set(r.warmups.map((w) => w.users))].map(int).join(", ");
      p(
        `**As the targets warmed up.** Each freshly started target served ${int(Math.max(...r.warmups.map((w) => w.index)))} unrecorded warm-up flow(s) of ${users} users before the measured one. ` +
          "The API's CPU per request in each, median of rounds, shows how far each runtime's code had settled (compiled) when it was measured.",
      );
      table(
        ["API CPU per request (µs)", "Bun", "Node", "Bun/Node", "Ratio range"],
        warmupFigures(r.warmups, r.flow).map((f) => [f.metric, ...figureCells(f)]),
      );
      if (helpersRecorded(r.warmups, r.flow)) {
        p("Of it, the part of the runtime's helper threads: the compilers' and the garbage collector's, as each runtime settled.");
        table(
          ["… on helper threads (µs)", "Bun", "Node", "Bun/Node", "Ratio range"],
          warmupFigures(r.warmups, r.flow, (c) => c.api_helper_threads_us_per_request).map((f) => [f.metric, ...figureCells(f)]),
        );
      }
      const failed = r.warmups.filter((w) => w.failed > 0);
      if (failed.length) p(`Warm-up requests failed: ${failed.map((w) => `${TARGET_LABEL[w.target]} round ${w.round} warm-up ${w.index}: ${int(w.failed)}`).join("; ")}.`);
    }
    // The rows of "… of it" break a row above down: stacked with it, they would count twice.
    const parts = cpu.filter((f) => f.unit === "s" && !f.metric.startsWith("… "));
    const shades = [COLOR.bun, COLOR.node, COLOR.reference[0], COLOR.reference[1]];
    const chart = barChart(
      "cpu-share",
      "CPU seconds during the flow, median of rounds",
      present.map((t) => TARGET_LABEL[t]),
      parts.map((f, i) => bar(f.metric, present.map((t) => (t === "bun" ? f.bunMedian : f.nodeMedian)), shades[i]!)),
      "CPU-s",
    );
    const scales = chart.config.options!.scales as { x?: Record<string, unknown>; y: Record<string, unknown> };
    scales.x = { stacked: true };
    scales.y.stacked = true;
    out.push({ kind: "charts", charts: [chart] });
  }

  // --- TCP ------------------------------------------------------------------------------------
  const tcp = tcpFigures(r.flow);
  if (anyRound(tcp[0]!)) {
    h2("What TCP did during the flows", "tcp");
    p(
      "The machine's TCP counters (Linux's /proc/net/snmp and /proc/net/netstat) over each measured flow, median of rounds. They are machine-wide: nearly all of it is the flow's own connections, one per user, opened at once. " +
        "How the API's listen sockets take that burst shows here. A **listen queue overflow** drops a handshake, and its client sends the SYN again a second or more later: that user's requests, and maybe the flow's wall time, carry the wait. " +
        "A **SYN cookie** answers a handshake when the SYN queue is full: the connection works, but on loopback its segments shrink from about 64 KB to at most 1,460 bytes, so a larger answer leaves in more segments. " +
        "Segments are **sent again** after a timeout or a loss probe: each held its connection up for at least the retransmission timer. Counts that are often zero make poor ratios, so each target's rounds are shown instead.",
    );
    table(
      ["During the flow", "Bun", "Node", "Bun rounds", "Node rounds"],
      tcp.map((f) => [`${f.metric} (${f.unit})`, inUnit(f.bunMedian, f.unit), inUnit(f.nodeMedian, f.unit), range(f.bun, f.unit), range(f.node, f.unit)]),
    );
  }

  // --- Reference ------------------------------------------------------------------------------
  h2("Reference: the original Python and Rust reports", "reference");
  if (r.reference.length === 0) p("No reference figures are in these results.");
  else {
    p(
      "The Python (FastAPI) and Rust (Actix-Web) rows are **published by the original reports, on other hardware** (their machine, behind Nginx). " +
        "They were not measured here: they give context, not a same-machine comparison. Our medians for the same number of users stand beside them.",
    );
    const ours = (t: Target) => {
      const runs = runsOf(t);
      return {
        label: runs.length === 1 ? `${TARGET_LABEL[t]} (1 round)` : `${TARGET_LABEL[t]} (median of ${runs.length} rounds)`,
        users: runs[0]?.users ?? 0,
        throughput_rps: median(runs.map((f) => f.throughput_rps)),
        error_pct: median(runs.map(errorPct)),
        p50_ms: median(runs.map((f) => f.overall.p50_ms)),
        p99_ms: median(runs.map((f) => f.overall.p99_ms)),
        wall_s: median(runs.map((f) => f.wall_s)),
      };
    };
    const mine = present.map(ours);
    const row = (x: (typeof mine)[number] | (typeof r.reference)[number], where: string) =>
      [x.label, where, int(x.users), rps(x.throughput_rps), pct(x.error_pct), ms(x.p50_ms), ms(x.p99_ms), sec(x.wall_s)];
    table(
      ["Source", "Measured", "Users", "Throughput (req/s)", "Errors (%)", "p50 (ms)", "p99 (ms)", "Wall time (s)"],
      [...mine.map((x) => row(x, "here, this run")), ...r.reference.map((x) => row(x, "published by the original reports, on other hardware"))],
      ["l", "l", "r", "r", "r", "r", "r", "r"],
    );
    const comparable = r.reference.filter((x) => users.includes(x.users));
    if (comparable.length && mine.length) {
      const labels = [...mine.map((m) => m.label.split(" (")[0]!), ...comparable.map((x) => `${x.label.split(" (")[0]!.split(",")[0]} (published)`)];
      const colors = [...present.map((t) => COLOR[t]), ...comparable.map((_, i) => COLOR.reference[i % COLOR.reference.length]!)];
      const rows = [...mine, ...comparable];
      const single = (id: string, title: string, unit: string, pickV: (x: (typeof rows)[number]) => number) =>
        barChart(id, title, labels, [{ ...bar(title, rows.map(pickV), colors[0]!), backgroundColor: colors, borderColor: colors }], unit);
      const chart = (c: ChartSpec) => {
        (c.config.options!.plugins as Record<string, unknown>).legend = { display: false };
        return c;
      };
      out.push({
        kind: "charts",
        charts: [
          chart(single("reference-throughput", `Throughput at ${int(comparable[0]!.users)} users (req/s), published rows from other hardware`, "req/s", (x) => x.throughput_rps)),
          chart(single("reference-p99", `p99 latency at ${int(comparable[0]!.users)} users (ms), published rows from other hardware`, "ms", (x) => x.p99_ms)),
        ],
      });
    } else if (mine.length) p(`The reports published no figures for ${users.map(int).join(", ")} users, so there is no chart beside them.`);
  }

  // --- Rounds -----------------------------------------------------------------------------------
  if (r.flow.length) {
    h2("Every round", "rounds");
    p("One line per flow run, in the order they ran. The spread between rounds of one target shows how steady the machine was.");
    table(
      ["Target", "Round", "Users", "Requests", "Failed", "Throughput (req/s)", "Successful (req/s)", "p50 (ms)", "p99 (ms)", "Max (ms)", "Wall time (s)", "Users completed"],
      [...r.flow]
        .sort((a, b) => a.round - b.round || a.target.localeCompare(b.target))
        .map((f) => [
          TARGET_LABEL[f.target],
          int(f.round),
          int(f.users),
          int(f.requests),
          int(f.failed),
          rps(f.throughput_rps),
          rps(f.throughput_ok_rps),
          ms(f.overall.p50_ms),
          ms(f.overall.p99_ms),
          ms(f.overall.max_ms),
          sec(f.wall_s),
          int(f.users_completed),
        ]),
    );
    const shades: Record<Target, string[]> = { bun: [COLOR.bun, "#fd7e14", "#ffa94d", "#d9480f"], node: [COLOR.node, "#40c057", "#69db7c", "#237032"] };
    out.push({
      kind: "charts",
      charts: [
        {
          id: "timeline",
          wide: true,
          title: "Throughput over time: requests finished per second, each round",
          config: {
            type: "line",
            data: {
              datasets: [...r.flow].sort((a, b) => a.target.localeCompare(b.target) || a.round - b.round).map((f) => {
                const i = runsOf(f.target).indexOf(f);
                const color = shades[f.target][i % 4]!;
                return {
                  label: `${TARGET_LABEL[f.target]} round ${f.round}`,
                  data: f.timeline.map((t) => ({ x: t.t_s, y: t.requests })),
                  borderColor: color,
                  backgroundColor: color,
                  pointRadius: 2,
                  tension: 0,
                };
              }),
            },
            options: {
              plugins: { title: { display: true, text: "Throughput over time: requests finished per second, each round" }, legend: { position: "bottom" } },
              scales: { x: { type: "linear", title: axisTitle("seconds since the round started") }, y: { beginAtZero: true, title: axisTitle("requests in that second") } },
            },
          },
        },
      ],
    });
  }

  // --- Per endpoint -----------------------------------------------------------------------------
  if (r.flow.length) {
    h2("Latency per endpoint", "endpoints");
    p(
      "The 7 steps of the flow, per target. Count, ok and failed are summed over the rounds; mean and percentiles are the median of the rounds' values; min and max are over all rounds.",
    );
    for (const t of present) {
      const runs = runsOf(t);
      h3(`${TARGET_LABEL[t]} (${runs.length} round${runs.length === 1 ? "" : "s"})`);
      table(
        ["Endpoint", "Count", "OK", "Failed", "Mean (ms)", "p50 (ms)", "p90 (ms)", "p95 (ms)", "p99 (ms)", "Min (ms)", "Max (ms)"],
        FLOW_STEPS.map((step) => {
          const s = stepAcrossRounds(runs, step);
          return [STEP_LABEL[step], int(s.count), int(s.ok), int(s.failed), ms(s.mean_ms), ms(s.p50_ms), ms(s.p90_ms), ms(s.p95_ms), ms(s.p99_ms), ms(s.min_ms), ms(s.max_ms)];
        }),
      );
    }
    const per = (t: Target, k: keyof Stats) => FLOW_STEPS.map((step) => stepAcrossRounds(runsOf(t), step)[k]);
    const datasets = present.flatMap((t) => [
      bar(`${TARGET_LABEL[t]} p50`, per(t, "p50_ms"), t === "bun" ? COLOR.bunLight : COLOR.nodeLight),
      bar(`${TARGET_LABEL[t]} p99`, per(t, "p99_ms"), COLOR[t]),
    ]);
    const hist = histogramBuckets(r.flow);
    const charts: ChartSpec[] = [
      barChart("endpoint-latency", "Latency per endpoint: p50 and p99 (ms), median of rounds", FLOW_STEPS.map((s) => STEP_LABEL[s]), datasets, "ms", { wide: true }),
    ];
    if (hist.labels.length)
      charts.push(
        barChart(
          "histogram",
          "Latency histogram: requests per latency bucket, all rounds",
          hist.labels,
          present.map((t) => bar(TARGET_LABEL[t], hist.counts[t], COLOR[t])),
          "requests",
          { wide: true },
        ),
      );
    out.push({ kind: "charts", charts });
    if (hist.labels.length) {
      h3("Latency distribution");
      p("Requests per latency bucket, summed over all rounds of each target.");
      table(["Latency", ...present.map((t) => `${TARGET_LABEL[t]} (requests)`)], hist.labels.map((l, i) => [l, ...present.map((t) => int(hist.counts[t][i]))]));
    }
  }

  // --- Errors -----------------------------------------------------------------------------------
  if (r.flow.length) {
    h2("Errors", "errors");
    const sumErrors = (t: Target) => {
      const acc: Record<string, number> = {};
      for (const f of runsOf(t)) for (const [k, v] of Object.entries(f.errors)) acc[k] = (acc[k] ?? 0) + (v ?? 0);
      return acc;
    };
    const errs = Object.fromEntries(present.map((t) => [t, sumErrors(t)])) as Record<Target, Record<string, number>>;
    const requests = Object.fromEntries(present.map((t) => [t, runsOf(t).reduce((a, f) => a + f.requests, 0)])) as Record<Target, number>;
    const classes = [...new Set(present.flatMap((t) => Object.keys(errs[t])))].sort();
    if (classes.length === 0) p(`No request failed, for ${both ? "either target" : "this target"}, in any round.`);
    else {
      p("Failed requests by class, summed over all rounds; the percentage is of all that target's requests. A user whose step fails stops there, so later steps were never sent.");
      const cell = (t: Target, c: string) => {
        const v = errs[t][c] ?? 0;
        return v ? `${int(v)} (${pct((100 * v) / (requests[t] || 1))})` : "0";
      };
      const total = (t: Target) => Object.values(errs[t]).reduce((a, b) => a + b, 0);
      table(
        ["Error class", ...present.map((t) => TARGET_LABEL[t])],
        [
          ...classes.map((c) => [errorLabel(c), ...present.map((t) => cell(t, c))]),
          ["**all errors**", ...present.map((t) => `**${int(total(t))} (${pct((100 * total(t)) / (requests[t] || 1))})**`)],
        ],
      );
    }
  }

  // --- oha --------------------------------------------------------------------------------------
  h2("Single endpoints under oha", "oha");
  if (r.oha.length === 0) p("oha was not run in this benchmark.");
  else {
    const lines = ohaLines(r.oha);
    const cs = [...new Set(r.oha.map((o) => o.concurrency))];
    const ds = [...new Set(r.oha.map((o) => o.duration_s))];
    p(
      `oha sends requests to one endpoint at a time, ${cs.map(int).join(", ")} connections for ${ds.map((d) => d.toLocaleString("en-US")).join(", ")} s per round. ` +
        "Figures are medians over rounds; Bun/Node is the median ratio of rounds paired in order. Success is the share of requests answered 2xx.",
    );
    table(
      ["Endpoint", "Bun (req/s)", "Node (req/s)", "Bun/Node req/s", "Bun p50 (ms)", "Node p50 (ms)", "Bun p99 (ms)", "Node p99 (ms)", "Bun/Node p99", "Bun success", "Node success"],
      lines.map((l) => [
        `${l.method} ${l.endpoint}`,
        rps(l.rps.bunMedian),
        rps(l.rps.nodeMedian),
        ratio(l.rps.ratio),
        ms(l.p50.bunMedian),
        ms(l.p50.nodeMedian),
        ms(l.p99.bunMedian),
        ms(l.p99.nodeMedian),
        ratio(l.p99.ratio),
        l.success.bun.length ? `${(Math.round(l.success.bunMedian * 100) / 100).toFixed(2)}%` : DASH,
        l.success.node.length ? `${(Math.round(l.success.nodeMedian * 100) / 100).toFixed(2)}%` : DASH,
      ]),
    );
    const measured = lines.filter((l) => l.apiCpu !== undefined);
    if (measured.length > 0) {
      p(
        "The API's CPU per request on each endpoint: what its processes used while oha ran (from /proc, user space and kernel), over the requests oha sent. " +
          "`GET /health` answers from memory, so it is about the HTTP layer alone (server, framework, runtime, sockets); the other endpoints add the domain and their drivers' calls to Redis, PostgreSQL or Kafka.",
      );
      table(
        ["Endpoint", "Bun (µs)", "Node (µs)", "Bun/Node", "Ratio range"],
        measured.map((l) => [`${l.method} ${l.endpoint}`, ...figureCells(l.apiCpu!)]),
      );
    }
    out.push({
      kind: "charts",
      charts: [
        barChart(
          "oha-rps",
          "oha: requests per second per endpoint, median of rounds",
          lines.map((l) => `${l.method} ${l.endpoint}`),
          present
            .filter((t) => r.oha.some((o) => o.target === t))
            .map((t) => bar(TARGET_LABEL[t], lines.map((l) => (t === "bun" ? l.rps.bunMedian : l.rps.nodeMedian)), COLOR[t])),
          "req/s",
          { wide: true },
        ),
      ],
    });
  }

  // --- Audit ------------------------------------------------------------------------------------
  h2("Audit: what the database says after each round", "audit");
  if (r.audit.length === 0) p("No audit was run.");
  else {
    const passed = r.audit.filter((a) => a.passed).length;
    p(
      `After each round the database is checked: every run answered 202 must reach a terminal state within the deadline, the rows in PostgreSQL must match what the clients were told, and no idempotency key may have two runs. **${passed} of ${r.audit.length}** audits passed.`,
    );
    table(
      ["Target", "Round", "Result", "Runs accepted", "Terminal", "Not terminal", "Workflows created", "Workflows in DB", "Runs in DB", "Duplicate keys", "Deadline (s)"],
      byRound(r.audit).map((a) => [
        TARGET_LABEL[a.target],
        int(a.round),
        a.passed ? "✅ passed" : "❌ failed",
        int(a.runs_accepted),
        int(a.runs_terminal),
        int(a.runs_not_terminal),
        int(a.workflows_created_ok),
        int(a.workflows_in_db),
        int(a.runs_in_db),
        int(a.duplicate_idempotency_keys),
        sec(a.deadline_s),
      ]),
      ["l", "r", "l", "r", "r", "r", "r", "r", "r", "r", "r"],
    );
    const problems = byRound(r.audit).flatMap((a) => a.problems.map((pr) => `${TARGET_LABEL[a.target]}, round ${a.round}: ${pr}`));
    if (problems.length) {
      h3("Problems found");
      out.push({ kind: "list", items: problems });
    }
  }

  // --- Machine ----------------------------------------------------------------------------------
  h2("Machine, versions and configuration", "machine");
  p("Everything above ran on this machine.");
  table(
    ["Machine", "Value"],
    [
      ["Cores", int(r.machine.cores)],
      ["Memory", `${int(r.machine.memory_gib)} GiB`],
      ["CPU", r.machine.cpu_model],
      ["OS", r.machine.os],
      ["Kernel", r.machine.kernel],
      ["Started", r.started_at],
      ["Finished", r.finished_at],
    ],
    ["l", "l"],
  );
  (out[out.length - 1] as Extract<Block, { kind: "table" }>).compact = true;
  const kv = (title: string, o: Record<string, unknown>) => {
    const entries = Object.entries(o);
    if (entries.length === 0) return;
    table([title, "Value"], entries.map(([k, v]) => [`\`${k}\``, typeof v === "number" ? v.toLocaleString("en-US") : String(v)]), ["l", "l"]);
    (out[out.length - 1] as Extract<Block, { kind: "table" }>).compact = true;
  };
  kv("Software", r.versions);
  kv("Setting", r.config);
  if (r.notes.length) {
    h2("Notes", "notes");
    out.push({ kind: "list", items: r.notes });
  }
  return out;
}
