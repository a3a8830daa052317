import type Redis from "ioredis";
import type { Config } from "../config/settings.ts";
import { type Breaker, CircuitOpen } from "../resilience/breaker.ts";
import { createRedis } from "./redis-client.ts";

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

  /** SET NX: fills the key only while it is empty. */
  async add(key: string, value: string, ttlS: number): Promise<void> {
    try {
      await this.call(() => this.redis.set(key, value, "EX", ttlS, "NX"));
    } catch (err) {
      this.failed(err);
    }
  }

  /**
   * Cache-aside read that cannot undo a newer write: on a miss `load` reads the store and its
   * answer fills the key only while the key is still empty. A copy read from PostgreSQL just
   * before a concurrent replace, delete or finished run would otherwise be written over the
   * newer one and served until it expired. undefined: not in the store, or deleted (`forget`).
   */
  async readThrough<T extends object>(key: string, ttlS: number, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const cached = await this.get(key);
    if (cached === GONE) return undefined;
    if (cached !== null) return JSON.parse(cached) as T;
    const value = await load();
    if (value !== undefined) await this.add(key, JSON.stringify(value), ttlS);
    return value;
  }

  /** Marks a deleted entity's key for `ttlS`, so that a read which loaded it before the delete cannot put it back. */
  forget(key: string, ttlS: number): Promise<void> {
    return this.set(key, GONE, ttlS);
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

/** What a deleted entity's key holds (never valid JSON, so never taken for a copy). */
const GONE = "\u0000gone";

export const cacheKeys = {
  workflow: (id: string) => `wf:workflow:${id}`,
  run: (id: string) => `wf:run:${id}`,
} as const;
