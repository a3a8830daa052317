import type { Admin } from "kafkajs";
import type { Cache } from "../cache/cache.ts";
import type { Sql } from "../sql/client.ts";

export type Dependency = "postgres" | "redis" | "kafka";
export type DependencyState = "up" | "down";

export interface Readiness {
  ready: boolean;
  status: "ok" | "unavailable" | "draining";
  /** postgres_replica only with a read replica (DATABASE_READ_URL): never required, reads fall back to the primary. */
  checks: Record<Dependency, DependencyState> & { postgres_replica?: DependencyState };
}

const within = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))]);

/** Readiness: each dependency is probed with a short deadline, concurrently. */
export class HealthService {
  /** Set when the process is shutting down, so load balancers stop sending it new work. */
  draining = false;

  constructor(
    private readonly deps: { sql: Sql; cache: Cache; kafkaAdmin: Admin; replica?: { probe(): Promise<void>; reachable: boolean } },
    private readonly required: readonly Dependency[],
    private readonly timeoutMs = 1000,
  ) {}

  private async probe(check: () => Promise<unknown>): Promise<DependencyState> {
    try {
      const ok = await within(check(), this.timeoutMs);
      return ok === false ? "down" : "up";
    } catch {
      return "down";
    }
  }

  async readiness(): Promise<Readiness> {
    const replica = this.deps.replica;
    const [postgres, redis, kafka, postgres_replica] = await Promise.all([
      // A parameter on purpose: postgres.js pipelines the next query behind a parameterless one,
      // and PgBouncer (< 1.21, transaction mode) gives the server away at the first
      // ReadyForQuery, so that next query hung to its timeout or read another client's
      // statement (found by the fuzz test: /health/ready polled under load). See sql/client.ts.
      this.probe(() => this.deps.sql`SELECT ${1}::int AS ok`),
      this.probe(() => this.deps.cache.ping()),
      this.probe(() => this.deps.kafkaAdmin.describeCluster()),
      replica &&
        this.probe(async () => {
          await replica.probe();
          return replica.reachable;
        }),
    ]);
    const checks = { postgres, redis, kafka, ...(postgres_replica && { postgres_replica }) };
    if (this.draining) return { ready: false, status: "draining", checks };
    const ready = this.required.every((d) => checks[d] === "up");
    return { ready, status: ready ? "ok" : "unavailable", checks };
  }
}
