import type Redis from "ioredis";
import type { Config } from "../config/settings.ts";
import { createRedis } from "./redis-client.ts";
import { CircuitOpen, type Breaker } from "../resilience/breaker.ts";

export interface CacheStats {
  hits: number;
  misses: number;
  errors: number;
  /** Commands not sent because Redis's circuit was open. */
  bypassed: number;
}

/**
 * A read cache that never fails a request: every Redis error or timeout is counted and treated as
 * a miss (reads) or skipped (writes), so with Redis down the service answers from PostgreSQL.
 * Commands are not queued while disconnected — a queued command would only add latency — and
 * while the circuit is open (Redis slow or gone) they are not sent at all.
 */
export class Cache {
  readonly stats: CacheStats = { hits: 0, misses: 0, errors: 0, bypassed: 0 };
  private readonly redis: Redis;

  constructor(
    config: Config,
    private readonly breaker?: Breaker,
  ) {
    this.redis = createRedis(config);
  }

  private failed(err: unknown): null {
    if (err instanceof CircuitOpen) this.stats.bypassed++;
    else this.stats.errors++;
    return null;
  }

  private call<T>(command: () => Promise<T>): Promise<T> {
    return this.breaker ? this.breaker.run(command) : command();
  }

  async get(key: string): Promise<string | null> {
    try {
      const v = await this.call(() => this.redis.get(key));
      if (v === null) this.stats.misses++;
      else this.stats.hits++;
      return v;
    } catch (err) {
      return this.failed(err);
    }
  }

  async set(key: string, value: string, ttlS: number): Promise<void> {
    try {
      await this.call(() => this.redis.set(key, value, "EX", ttlS));
    } catch (err) {
      this.failed(err);
    }
  }

  async del(...keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    try {
      await this.call(() => this.redis.del(...keys));
    } catch (err) {
      this.failed(err);
    }
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === "PONG";
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

export const cacheKeys = {
  workflow: (id: string) => `wf:workflow:${id}`,
  run: (id: string) => `wf:run:${id}`,
} as const;
