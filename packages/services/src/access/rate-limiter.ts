import { createRedis } from "@wf/platform/cache";
import type { Config } from "@wf/platform/config";
import type Redis from "ioredis";

// A token bucket per key, refilled continuously at `rate` per second up to `burst`; atomic in
// Redis, so every replica shares one budget per key. Returns {allowed, ms until one token}.
const TOKEN_BUCKET = `
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens, at = tonumber(b[1]) or burst, tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local allowed = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
if allowed == 1 then return {1, 0} end
return {0, math.ceil((1 - tokens) * 1000 / rate)}`;

export type Verdict = { allowed: true } | { allowed: false; retryAfterMs: number };

interface BucketRedis extends Redis {
  tokenBucket(key: string, rate: number, burst: number, now: number): Promise<[number, number]>;
}

/**
 * Per-key request budget in Redis. When Redis cannot answer, requests are let through and counted:
 * a cache outage must not become an API outage.
 */
export class RateLimiter {
  readonly stats = { limited: 0, errors: 0 };
  private readonly redis: BucketRedis;

  constructor(
    config: Config,
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    const redis = createRedis(config);
    redis.defineCommand("tokenBucket", { numberOfKeys: 1, lua: TOKEN_BUCKET });
    this.redis = redis as BucketRedis;
  }

  async take(keyId: string): Promise<Verdict> {
    try {
      const [allowed, waitMs] = await this.redis.tokenBucket(`wf:ratelimit:${keyId}`, this.perSecond, this.burst, Date.now());
      if (allowed === 1) return { allowed: true };
      this.stats.limited++;
      return { allowed: false, retryAfterMs: waitMs };
    } catch {
      this.stats.errors++;
      return { allowed: true };
    }
  }

  close(): void {
    this.redis.disconnect();
  }
}
