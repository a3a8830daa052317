import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { CacheStats } from "../cache/cache.ts";

export interface MetricSources {
  cache: CacheStats;
  publisher: { published: number; deferred: number; errors: number };
  relay: { relayed: number; failures: number };
}

/**
 * The process's Prometheus registry. Counters kept by the domain objects (cache, publisher,
 * relay) are read at scrape time instead of being incremented through prom-client on the hot path.
 */
export function createMetrics(runtime: string, sources: () => MetricSources) {
  const registry = new Registry();
  registry.setDefaultLabels({ runtime });
  collectDefaultMetrics({ register: registry });

  const httpDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration by route template, method and status.",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const inFlight = new Gauge({ name: "http_requests_in_flight", help: "Requests being served.", registers: [registry] });

  const fromSource = (name: string, help: string, labelName: string, read: () => Record<string, number>) =>
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
  fromSource("cache_operations_total", "Cache lookups and failures.", "result", () => {
    const s = sources().cache;
    return { hit: s.hits, miss: s.misses, error: s.errors };
  });
  fromSource("kafka_publish_total", "Run messages by outcome at request time.", "outcome", () => ({ ...sources().publisher }));
  fromSource("outbox_relay_total", "Messages republished by the outbox relay, and failed relay passes.", "outcome", () => ({
    ...sources().relay,
  }));

  return { registry, httpDuration, inFlight };
}

export type Metrics = ReturnType<typeof createMetrics>;
