/**
 * The shape of bench/results/<timestamp>/results.json: everything a run measured, from which
 * report.md and report.html are rendered. Latencies are milliseconds, times are seconds.
 */
export type Target = "bun" | "node";

/** Per-endpoint (or overall) request statistics, from the full set of samples. */
export interface Stats {
  count: number;
  ok: number;
  failed: number;
  mean_ms: number;
  p50_ms: number;
  p90_ms: number;
  p95_ms: number;
  p99_ms: number;
  min_ms: number;
  max_ms: number;
}

/** Error classes of the reports: timeout, refused, reset/disconnected, or an HTTP status. */
export type ErrorClass = "timeout" | "connection_refused" | "connection_reset" | "other" | `http_${number}`;

export const FLOW_STEPS = ["health", "root", "create_workflow", "get_workflow", "trigger", "get_run", "list_runs"] as const;
export type FlowStep = (typeof FLOW_STEPS)[number];

export interface FlowRun {
  target: Target;
  round: number;
  users: number;
  wall_s: number;
  requests: number;
  ok: number;
  failed: number;
  throughput_rps: number;
  throughput_ok_rps: number;
  users_completed: number;
  overall: Stats;
  per_step: Record<FlowStep, Stats>;
  errors: Partial<Record<ErrorClass, number>>;
  /** One point per second: requests finished and errors in that second. */
  timeline: Array<{ t_s: number; requests: number; errors: number }>;
  /** Latency histogram of all requests: count of samples at or under each bound. */
  histogram: Array<{ le_ms: number; count: number }>;
  /** How the machine's CPU was shared during this flow (absent in results of older benches). */
  cpu?: FlowCpu;
  /** What the machine's TCP did during this flow (absent in results of older benches, and off Linux). */
  tcp?: FlowTcp;
}

/**
 * Deltas of the machine's TCP counters over one flow. Machine-wide: the flow's own connections
 * and, far fewer, those to PostgreSQL, PgBouncer, Redis and Kafka.
 */
export interface FlowTcp {
  /** Handshakes dropped because a listen socket's accept queue was full; each client retried a second or more later. */
  listen_overflows: number;
  /** Handshakes answered with a SYN cookie because a listen socket's SYN queue was full. */
  syncookies_sent: number;
  /** SYNs and SYN-ACKs sent again after a timeout. */
  syn_retransmits: number;
  /** Segments sent again (timeouts, loss probes, fast retransmits). */
  retransmitted_segments: number;
  /** Segments sent over the flow's requests. */
  segments_per_request: number;
}

/** The stack's services whose CPU the report gives apart, when they run on the bench's machine. */
export const STACK_SERVICES = ["postgres", "pgbouncer", "redis", "kafka"] as const;
export type StackService = (typeof STACK_SERVICES)[number];

/** CPU seconds used while one flow ran, from /proc: by the API target, the workers, the load generator, and everything else. */
export interface FlowCpu {
  window_s: number;
  /** Busy time of all cores over the window. */
  machine_busy_pct: number;
  api_s: number;
  workers_s: number;
  runner_s: number;
  /** PostgreSQL, PgBouncer, Redis, Kafka and the kernel's own threads. */
  rest_s: number;
  /** api_s over the flow's requests: what one request cost the API, the part that differs between targets. */
  api_us_per_request: number;
  /**
   * Of api_us_per_request, the kernel's part (system time: sockets, system calls, page faults). The
   * rest ran in user space: the runtime, the framework, the drivers and the domain. Absent in
   * results of older benches.
   */
  api_kernel_us_per_request?: number;
  /**
   * Of api_us_per_request, the part of the runtime's helper threads: every thread but each process's
   * main thread, which runs the event loop. They compile code, mark for the garbage collector and
   * return memory. Absent in results of older benches.
   */
  api_helper_threads_us_per_request?: number;
  /**
   * Of rest_s, what each stack service on this machine used: its process and the children it
   * started or reaped (PostgreSQL's backends). Services not found, and older benches, have none.
   */
  stack_s?: Partial<Record<StackService, number>>;
}

/**
 * One unrecorded warm-up flow before a measured one: kept so the report can show each target's
 * CPU per request settling as its code is compiled, and that both were warmed alike.
 */
export interface WarmupRun {
  target: Target;
  round: number;
  /** 1 for the first warm-up of the round. */
  index: number;
  users: number;
  requests: number;
  failed: number;
  throughput_rps: number;
  api_us_per_request: number;
  /** Of it, the runtime's helper threads' part (see FlowCpu); absent in results of older benches. */
  api_helper_threads_us_per_request?: number;
}

export interface OhaRun {
  target: Target;
  round: number;
  endpoint: string;
  method: string;
  concurrency: number;
  duration_s: number;
  requests: number;
  rps: number;
  success_rate: number;
  p50_ms: number;
  p90_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  status_codes: Record<string, number>;
  errors: Record<string, number>;
  /** CPU the API's processes used while oha ran, per request sent (µs); absent from results made before it was measured. */
  api_cpu_us_per_request?: number;
}

export interface Audit {
  target: Target;
  round: number;
  passed: boolean;
  runs_accepted: number;
  runs_terminal: number;
  runs_not_terminal: number;
  workflows_created_ok: number;
  workflows_in_db: number;
  runs_in_db: number;
  duplicate_idempotency_keys: number;
  deadline_s: number;
  problems: string[];
}

/** A figure compared between the two targets: median of rounds, ratio bun/node, and its spread. */
export interface Comparison {
  metric: string;
  unit: string;
  bun: number;
  node: number;
  ratio: number;
  ratio_min: number;
  ratio_max: number;
  /** true when bigger is better (throughput), false for latency. */
  higher_is_better: boolean;
}

export interface TargetCheck {
  name: string;
  threshold: string;
  value: string;
  met: boolean;
}

export interface ReferenceRow {
  label: string;
  users: number;
  throughput_rps: number;
  error_pct: number;
  p50_ms: number;
  p99_ms: number;
  wall_s: number;
}

export interface BenchResults {
  scenario: string;
  started_at: string;
  finished_at: string;
  /** The commit the bench ran on, `+dirty` when tracked files had changes; absent in results of older benches. */
  commit?: string;
  machine: { cores: number; memory_gib: number; cpu_model: string; os: string; kernel: string };
  versions: Record<string, string>;
  config: Record<string, string | number | boolean>;
  flow: FlowRun[];
  /** Absent in results of older benches. */
  warmups?: WarmupRun[];
  oha: OhaRun[];
  audit: Audit[];
  comparisons: Comparison[];
  targets: TargetCheck[];
  /** The seed reports' published figures, measured on other hardware. */
  reference: ReferenceRow[];
  notes: string[];
  /**
   * The scenario's baseline as it was when the run ended (bench/baselines/<scenario>.json), kept
   * so that rendering the report again later compares with the same one. Absent when there was none.
   */
  baseline?: Baseline;
}

/** A baseline (bench/baselines/<scenario>.json); built by baseline/baseline.ts. */
/** One target's headline figures: medians of its rounds, except failed, summed over them. */
export interface TargetFigures {
  throughput_rps: number;
  p50_ms: number;
  p99_ms: number;
  failed: number;
  /** Absent when the run did not record CPU. */
  api_cpu_us_per_request?: number;
  machine_cpu_us_per_request?: number;
}

export interface Baseline {
  /** Says what the file is to someone who opens it; JSON has no comments. */
  about: string;
  scenario: string;
  /** When the run started (ISO 8601). */
  date: string;
  /** The commit the run measured; null when the results do not say. */
  commit: string | null;
  machine: BenchResults["machine"];
  api_replicas: number | null;
  users: number | null;
  rounds: number | null;
  targets: Partial<Record<Target, TargetFigures>>;
  /** Bun's flow throughput over Node's: the median of the rounds paired in the order they ran. */
  bun_node_throughput_ratio: number | null;
}
