import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { CacheStats } from "../cache/cache.ts";
import type { Breaker, BreakerState } from "../resilience/breaker.ts";

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, open: 1, half_open: 2 };

/** What every process's shared infrastructure counts; read at scrape time. */
export interface MetricSources {
  cache: CacheStats;
  publisher: { published: number; deferred: number; errors: number };
  breakers: readonly Breaker[];
  /** Database calls of this process's request path in flight, and its pool's size. */
  db: { inFlight: number; poolSize: number };
}

/** What only an API process knows; see `registerApiMetrics`. */
export interface ApiSources {
  relay: { relayed: number; failures: number };
  access: { limited: number; limiterErrors: number };
}

/** Sources of a registry that is never scraped (the OpenAPI export, schema tests). */
export const IDLE_SOURCES: MetricSources & ApiSources = {
  cache: { hits: 0, misses: 0, errors: 0, bypassed: 0 },
  publisher: { published: 0, deferred: 0, errors: 0 },
  relay: { relayed: 0, failures: 0 },
  breakers: [],
  db: { inFlight: 0, poolSize: 0 },
  access: { limited: 0, limiterErrors: 0 },
};

/** Runs that wait, by what for (see WaitingRuns). */
export interface WaitingRunCounts {
  /** Pending runs of workflows with a concurrency limit, due and not started. */
  concurrency_slot: number;
  /** Running runs that no worker holds: waiting for a time or an event. */
  parked: number;
  /** Pending runs whose run_at or delay_ms has not come. */
  scheduled: number;
}

/** How late, in seconds, the oldest of what should not wait long is (0 when nothing is late). */
export interface Lateness {
  /** Pending runs past their start time (created, or their run_at) with no concurrency limit to wait for. */
  pending: number;
  /** Parked runs past their wake_at: the timer service should have handed them back. */
  parked: number;
  /** The oldest message of this topic's outbox (Kafka not acknowledging, the relay not running). */
  outbox: number;
}

/** What only a worker process knows; see `registerWorkerMetrics`. */
export interface WorkerSources {
  runs: { completed: number; failed: number; cancelled: number; handedBack: number; parked: number };
  /** Counted in PostgreSQL when asked (at scrape time). */
  waiting: () => Promise<WaitingRunCounts>;
  /** Counted in PostgreSQL when asked, with `waiting`. */
  lateness: () => Promise<Lateness>;
  /** Messages behind the partition's high watermark, per "topic/partition", as of the last batch. */
  lag: ReadonlyMap<string, number>;
  /** Schedule ticks this worker's ticker handled, by what they did. */
  schedules: { started: number; skippedOverlap: number; skippedNoWorkflow: number };
  /** Webhook delivery attempts this worker's dispatcher recorded, by outcome. */
  webhooks: { delivered: number; failedAttempts: number; failed: number };
}

/**
 * The process's Prometheus registry. Counters kept by the objects that count (cache, publisher,
 * breakers) are read at scrape time instead of being incremented through prom-client on the hot path.
 */
export function createMetrics(runtime: string, sources: () => MetricSources) {
  const registry = new Registry();
  registry.setDefaultLabels({ runtime });
  // The event-loop lag is sampled every 100 ms, not prom-client's 10: its timer woke an idle
  // process 100 times a second, and ten samples a second still give a scrape its percentiles.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });

  const kafkaProduce = new Histogram({
    name: "kafka_produce_duration_seconds",
    help: "Time from a produce request to the broker's acknowledgement (or failure), per batch.",
    labelNames: ["outcome"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: "db_pool_connections",
    help: "Query pool of this process: connections busy with a request's call, and calls waiting for one (estimated from calls in flight).",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const { inFlight: n, poolSize } = sources().db;
      this.set({ state: "in_use" }, Math.min(n, poolSize));
      this.set({ state: "waiting" }, Math.max(0, n - poolSize));
      this.set({ state: "size" }, poolSize);
    },
  });

  const fromSource = counterFrom(registry);
  fromSource("cache_operations_total", "Cache lookups and failures.", "result", () => {
    const s = sources().cache;
    return { hit: s.hits, miss: s.misses, error: s.errors, bypassed: s.bypassed };
  });
  fromSource("kafka_publish_total", "Run messages by outcome at request time.", "outcome", () => ({ ...sources().publisher }));
  new Gauge({
    name: "circuit_breaker_state",
    help: "Circuit of each dependency: 0 closed, 1 open (failing fast), 2 half-open (probing).",
    labelNames: ["dependency"],
    registers: [registry],
    collect() {
      for (const b of sources().breakers) this.set({ dependency: b.dependency }, STATE_VALUE[b.state]);
    },
  });
  fromSource("circuit_breaker_rejections_total", "Calls not made because the dependency's circuit was open.", "dependency", () =>
    Object.fromEntries(sources().breakers.map((b) => [b.dependency, b.stats.rejected])),
  );
  fromSource("circuit_breaker_opened_total", "Times each dependency's circuit opened.", "dependency", () =>
    Object.fromEntries(sources().breakers.map((b) => [b.dependency, b.stats.opened])),
  );

  return { registry, kafkaProduce };
}

export type ProcessMetrics = ReturnType<typeof createMetrics>;

/** A counter whose values are read from `read()` at scrape time, one series per key. */
function counterFrom(registry: Registry) {
  return (name: string, help: string, labelName: string, read: () => Record<string, number>) =>
    new Counter({
      name,
      help,
      labelNames: [labelName],
      registers: [registry],
      collect() {
        this.reset();
        for (const [label, value] of Object.entries(read())) this.inc({ [labelName]: label }, value);
      },
    });
}

/** The HTTP server's series, on the process's registry: requests, the relay, rate limits. */
export function registerApiMetrics(registry: Registry, sources: () => ApiSources) {
  const httpDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration by route template, method and status.",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const inFlight = new Gauge({ name: "http_requests_in_flight", help: "Requests being served.", registers: [registry] });
  const fromSource = counterFrom(registry);
  fromSource("outbox_relay_total", "Messages republished by the outbox relay, and failed relay passes.", "outcome", () => ({
    ...sources().relay,
  }));
  fromSource(
    "rate_limit_total",
    "Requests refused by an API key's rate limit, and limiter checks Redis could not answer (let through).",
    "outcome",
    () => {
      const a = sources().access;
      return { limited: a.limited, error: a.limiterErrors };
    },
  );

  return { httpDuration, inFlight };
}

/** What the read replica's router knows (see ReadReplica); only registered when DATABASE_READ_URL is set. */
export interface ReplicaSources {
  lagSeconds: number | undefined;
  reachable: boolean;
  counts: Readonly<Record<string, number>>;
}

/** The read replica's series: its lag as this process last measured it, whether it is used, and where reads went. */
export function registerReplicaMetrics(registry: Registry, replica: ReplicaSources): void {
  new Gauge({
    name: "pg_replica_lag_seconds",
    help: "How far the read replica's replay is behind the primary, measured by this process every second (0 when all WAL received is replayed; no sample while it is unreachable).",
    registers: [registry],
    collect() {
      this.reset();
      if (replica.lagSeconds !== undefined) this.set(replica.lagSeconds);
    },
  });
  new Gauge({
    name: "pg_replica_up",
    help: "1 when this process's last probe of the read replica answered, else 0 (reads then go to the primary).",
    registers: [registry],
    collect() {
      this.set(replica.reachable ? 1 : 0);
    },
  });
  const fromSource = counterFrom(registry);
  fromSource(
    "db_reads_total",
    "Routed reads (lists and by-id) by where they went: the replica, or the primary because the replica lacked the row, failed, was unusable, or the entity was just written.",
    "target",
    () => ({ ...replica.counts }),
  );
}

/** An API process's metrics: the shared infrastructure's and the HTTP server's. */
export type Metrics = ProcessMetrics & ReturnType<typeof registerApiMetrics>;

/** The worker's own series, on the process's registry: runs and steps executed, consumer lag, schedule ticks. */
export function registerWorkerMetrics(registry: Registry, sources: () => WorkerSources) {
  new Counter({
    name: "runs_finished_total",
    help: "Runs this worker brought to a terminal state, runs it handed back on shutdown, and runs it parked (waiting, no worker held).",
    labelNames: ["status"],
    registers: [registry],
    collect() {
      this.reset();
      const r = sources().runs;
      for (const [status, n] of Object.entries({
        completed: r.completed,
        failed: r.failed,
        cancelled: r.cancelled,
        handed_back: r.handedBack,
        parked: r.parked,
      }))
        this.inc({ status }, n);
    },
  });
  new Gauge({
    name: "kafka_consumer_lag",
    help: "Messages of a partition this worker consumes not yet fetched (high watermark minus the next offset).",
    labelNames: ["topic", "partition"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, lag] of sources().lag) {
        const cut = key.lastIndexOf("/");
        this.set({ topic: key.slice(0, cut), partition: key.slice(cut + 1) }, lag);
      }
    },
  });
  new Gauge({
    name: "runs_waiting",
    help: "Runs of this worker group's topic that wait, by reason: concurrency_slot (pending behind their workflow's concurrency limit), parked (running, no worker held), scheduled (pending until their run_at). Counted in PostgreSQL at scrape time; every worker reports the same counts.",
    labelNames: ["reason"],
    registers: [registry],
    async collect() {
      for (const [reason, n] of Object.entries(await sources().waiting())) this.set({ reason }, n);
    },
  });
  new Gauge({
    name: "runs_overdue_seconds",
    help: "How late the oldest overdue run of this worker group's topic is, by reason: pending (past its start time, no concurrency limit to wait for) or parked (past its wake_at); 0 when none. Counted in PostgreSQL at scrape time; every worker reports the same.",
    labelNames: ["reason"],
    registers: [registry],
    async collect() {
      const l = await sources().lateness();
      this.set({ reason: "pending" }, l.pending);
      this.set({ reason: "parked" }, l.parked);
    },
  });
  new Gauge({
    name: "outbox_oldest_age_seconds",
    help: "Age of the oldest message of this worker group's topic still in the outbox (not yet acknowledged by Kafka); 0 when it is empty. Counted at scrape time; every worker reports the same.",
    registers: [registry],
    async collect() {
      this.set((await sources().lateness()).outbox);
    },
  });
  const stepDuration = new Histogram({
    name: "step_duration_seconds",
    help: "Duration of executed steps, all attempts included, by step type and final status.",
    labelNames: ["type", "status"] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
    registers: [registry],
  });
  const fromSource = counterFrom(registry);
  fromSource(
    "schedule_ticks_total",
    "Schedule ticks this worker's ticker handled: a run started, or none (overlap skip with the previous run unfinished; the workflow deleted).",
    "outcome",
    () => {
      const s = sources().schedules;
      return { started: s.started, skipped_overlap: s.skippedOverlap, skipped_no_workflow: s.skippedNoWorkflow };
    },
  );
  fromSource(
    "webhook_attempts_total",
    "Webhook delivery attempts this worker recorded: delivered (a 2xx), retry (no 2xx, another attempt scheduled), failed (no 2xx, and the delivery is too old to retry).",
    "outcome",
    () => {
      const w = sources().webhooks;
      return { delivered: w.delivered, retry: w.failedAttempts - w.failed, failed: w.failed };
    },
  );
  // Up to SCHEDULE_POLL_MS plus a pass when all is well; a missed tick's run shows how long no ticker ran.
  const scheduleLag = new Histogram({
    name: "schedule_lag_seconds",
    help: "How late a schedule's run was started: its creation minus its tick.",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
    registers: [registry],
  });
  return { stepDuration, scheduleLag };
}

/** An API process's metrics that are never scraped (the OpenAPI export, schema tests). */
export function idleApiMetrics(runtime: string): Metrics {
  const process = createMetrics(runtime, () => IDLE_SOURCES);
  return { ...process, ...registerApiMetrics(process.registry, () => IDLE_SOURCES) };
}
