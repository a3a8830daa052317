import Redis from "ioredis";
import type { Config } from "../config/settings.ts";
import { ensureTracingChannelHasSubscribers } from "../observability/tracing-channel.ts";

/**
 * A Redis connection for what may fail without failing a request (the cache, rate limits):
 * commands are never queued while disconnected and never retried, a slow one times out after
 * REDIS_COMMAND_TIMEOUT_MS, and the connection keeps trying to come back, at most every 2 s.
 */
export function createRedis(config: Config): Redis {
  ensureTracingChannelHasSubscribers();
  const redis = new Redis(config.redisUrl, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: config.redisCommandTimeoutMs,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 100, 2000),
    // Commands of one event-loop turn go out in one write: under load, one syscall for many requests.
    enableAutoPipelining: true,
  });
  // ioredis emits 'error' on every failed reconnect; unhandled it would crash the process.
  redis.on("error", () => {});
  return redis;
}
