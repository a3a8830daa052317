/**
 * The shape of bench/results/<timestamp>-runs/results.json: what `bun run bench:runs` measured of
 * run execution, from which its report is rendered. Latencies are milliseconds.
 */
import type { Stats } from "../results.ts";
import type { PeerResult } from "./peers/measure.ts";

/** A workflow shape the bench runs: its steps, and how many each run executes. */
export interface ShapeInfo {
  name: string;
  steps: number;
  description: string;
}

/** Runs triggered one at a time, each waited for before the next. */
export interface SequentialRun {
  shape: string;
  runs: number;
  /** Trigger → the worker's claim, from the run's own timestamps (created_at → started_at). */
  service_start: Stats;
  /** Trigger → terminal state, from the run's own timestamps (created_at → finished_at). */
  service_complete: Stats;
  /** Trigger sent → 202 received, as the client saw it. */
  client_accepted: Stats;
  /** Trigger sent → the client read the terminal state (polling GET /runs/{id}). */
  client_complete: Stats;
  /** Runs that did not complete (failed, cancelled, or not terminal in time). */
  not_completed: number;
}

/** One load step: triggers sent by oha, then every accepted run waited for and measured. */
export interface LoadStep {
  shape: string;
  /** "closed": oha at a fixed concurrency, as fast as triggers are accepted; "open": a fixed arrival rate. */
  mode: "closed" | "open";
  /** Offered triggers per second (open loop); null for the closed loop. */
  offered_rps: number | null;
  concurrency: number;
  duration_s: number;
  /** Triggers oha sent, and those answered 202. */
  sent: number;
  accepted: number;
  /** Accepted triggers per second over oha's run. */
  accepted_rps: number;
  /** Runs completed per second: completed runs over first trigger → last completion. */
  completed_rps: number;
  steps_per_s: number;
  /** Accepted runs that reached no terminal state within the deadline: lost, as far as the bench can tell. */
  lost: number;
  failed: number;
  /** Runs whose steps show more than one execution of a step (a duplicate completion). */
  duplicate_steps: number;
  service_start: Stats;
  service_complete: Stats;
  /** The trigger's own latency under load, from oha (send → 202). */
  trigger_p50_ms: number;
  trigger_p99_ms: number;
  cpu?: RunCpu;
  /** PostgreSQL's work for this step: commits and WAL bytes per completed run. */
  database?: { commits_per_run: number; wal_bytes_per_run: number; rows_written_per_run: number };
}

/** CPU seconds per completed run, by process group, during one load step. */
export interface RunCpu {
  window_s: number;
  machine_busy_pct: number;
  /** µs of CPU per completed run. */
  per_run_us: { api: number; workers: number; load_generator: number; rest: number; machine: number } & Partial<
    Record<"postgres" | "pgbouncer" | "redis" | "kafka", number>
  >;
}

/** What PostgreSQL itself allows on the same machine: pgbench of a one-row insert-and-update transaction. */
export interface Ceiling {
  clients: number;
  duration_s: number;
  tps: number;
  /** Through PgBouncer (the engine's own path) or PostgreSQL directly. */
  via: "pgbouncer" | "direct";
}

export interface RunsResults {
  kind: "runs";
  started_at: string;
  finished_at: string;
  commit?: string;
  machine: { cores: number; memory_gib: number; cpu_model: string; os: string };
  versions: Record<string, string>;
  setup: { api_replicas: number; worker_replicas: number; worker_concurrency: number; sequential_runs: number; topology: "pgbouncer" };
  shapes: ShapeInfo[];
  sequential: SequentialRun[];
  load: LoadStep[];
  /** One message at a time through Kafka as the API sends and the workers consume: the floor of trigger → start. */
  kafka_hop?: { hop: Stats; ack: Stats };
  /** pgbench through PgBouncer (the engine's path) and straight to PostgreSQL. */
  ceiling: Ceiling[];
  /** The highest offered rate whose completions kept up (≥ 95 % of offered, nothing lost), per shape. */
  knee: Record<string, number | null>;
  /** Each audit's problems; empty when every accepted run reached exactly one terminal state. */
  audit: string[];
  /** Peer engines measured in the same run with the same workload and load generator (--peers). */
  peers?: PeerResult[];
  /** Many runs in a long delay at once (--parked). */
  parked?: ParkedWaits;
}

/** Parked waits: many runs each in a long delay, which must hold no worker. */
export interface ParkedWaits {
  runs: number;
  delay_ms: number;
  /** From the first trigger until every run was parked. */
  all_parked_s: number;
  /** Runs of these holding a worker's lease once all were parked: 0 when waits hold no worker. */
  leased_while_parked: number;
  /** chain-3 one at a time while they were parked: the workers' slots are free. */
  chain3_while_parked: SequentialRun;
  /** How late each delay ended: finished_at − (the delay step's start + delay). */
  late: Stats;
  completed: number;
  /** Accepted but not completed by the deadline. */
  lost: number;
}
