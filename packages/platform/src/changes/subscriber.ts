import Redis from "ioredis";

/**
 * One Redis subscriber connection for the whole process, shared by every channel anyone listens
 * to: a channel is subscribed when its first listener comes and unsubscribed when its last one
 * leaves, so a thousand streams cost one connection, not a thousand. Subscriptions are restored by
 * this class (not by ioredis) on every reconnect, after which `onReady` is told: messages sent
 * while it was away are lost, and the listeners must look at the source of truth again.
 */
export class ChannelSubscriber {
  private redis: Redis | undefined;
  private readonly counts = new Map<string, number>();
  private readonly onMessage: (channel: string) => void;
  private readonly onReady: () => void;

  constructor(
    private readonly redisUrl: string,
    handlers: { message: (channel: string) => void; ready: () => void },
  ) {
    this.onMessage = handlers.message;
    this.onReady = handlers.ready;
  }

  /** Connected on first use: a process nobody streams from holds no subscriber connection. */
  private connection(): Redis {
    if (this.redis) return this.redis;
    const redis = new Redis(this.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResubscribe: false,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 100, 2000),
    });
    redis.on("error", () => {});
    redis.on("message", (channel: string) => this.onMessage(channel));
    redis.on("ready", () => {
      if (this.counts.size > 0) this.send("subscribe", [...this.counts.keys()]);
      this.onReady();
    });
    this.redis = redis;
    return redis;
  }

  private send(command: "subscribe" | "unsubscribe", channels: string[]): void {
    const redis = this.connection();
    // Offline: it fails at once, and the "ready" of the reconnect subscribes what is wanted then.
    if (redis.status !== "ready") return;
    redis[command](...channels).catch(() => {});
  }

  get channels(): number {
    return this.counts.size;
  }

  add(channel: string): void {
    const n = this.counts.get(channel) ?? 0;
    this.counts.set(channel, n + 1);
    if (n === 0) this.send("subscribe", [channel]);
  }

  remove(channel: string): void {
    const n = this.counts.get(channel) ?? 0;
    if (n > 1) return void this.counts.set(channel, n - 1);
    if (n === 0) return;
    this.counts.delete(channel);
    this.send("unsubscribe", [channel]);
  }

  close(): void {
    this.redis?.disconnect();
    this.redis = undefined;
  }
}
