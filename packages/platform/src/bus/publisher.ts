import type { Kafka, Message, Producer } from "kafkajs";
import type { Logger } from "../observability/logger.ts";
import { errorFields } from "../observability/logger.ts";
import { type Breaker, CallTimedOut, CircuitOpen } from "../resilience/breaker.ts";
import { keyPartitioner } from "./partitioner.ts";

export interface OutgoingMessage {
  topic: string;
  key: string;
  value: string;
  headers?: Record<string, string>;
}

export type PublishOutcome = "published" | "deferred";

interface Pending {
  msg: OutgoingMessage;
  resolve: (ok: boolean) => void;
}

/**
 * The process's Kafka producer, connected at start-up (never lazily inside a request).
 *
 * Messages published in the same event-loop turn are sent as one produce request per topic, so
 * under load a trigger costs a fraction of a round trip to the broker instead of one each.
 * `publish` never throws and never waits longer than `timeoutMs`: a message that could not be
 * acknowledged in time is reported `deferred`, and the caller relies on the outbox to deliver it.
 * While Kafka's circuit is open, messages are deferred at once instead of each waiting out the
 * timeout; the circuit's probe, not a reconnect alone, decides when publishing resumes.
 */
export class Publisher {
  private producer: Producer;
  private connected = false;
  /** Idempotent mode: a produce request is under way; what is published meanwhile waits for the next. */
  private sending = false;
  private queue: Pending[] = [];
  private flushScheduled = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  readonly stats = { published: 0, deferred: 0, errors: 0 };
  /** Told how long each produce request took to be acknowledged or to fail (the metrics histogram). */
  observeSend: (seconds: number, ok: boolean) => void = () => {};

  /**
   * @param prepare runs after every (re)connect before publishing resumes: the caller makes sure
   * its topics exist, since a broker that was down at start-up may come back empty.
   * @param idempotent an idempotent producer (KAFKA_IDEMPOTENT): acks=all is already always asked.
   */
  constructor(
    private readonly kafka: Kafka,
    private readonly log: Logger,
    private readonly timeoutMs: number,
    private readonly breaker?: Breaker,
    private readonly prepare: () => Promise<void> = async () => {},
    private readonly idempotent = false,
  ) {
    this.producer = this.createProducer();
  }

  private createProducer(): Producer {
    const producer = this.kafka.producer({
      createPartitioner: keyPartitioner,
      allowAutoTopicCreation: false,
      // Idempotence numbers each partition's batches, so one request in flight per broker keeps them in
      // order; the retries ride out a leader election (~3 s after a broker dies) before the outbox does.
      ...(this.idempotent
        ? { idempotent: true, maxInFlightRequests: 1, retry: { retries: 6, initialRetryTime: 100, maxRetryTime: 1000 } }
        : { retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 } }),
    });
    producer.on("producer.disconnect", () => {
      if (producer !== this.producer) return;
      this.connected = false;
      this.scheduleReconnect();
    });
    return producer;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Connects; on failure keeps retrying in the background and resolves false. */
  async start(): Promise<boolean> {
    try {
      await this.connect();
      return true;
    } catch (err) {
      this.log.warn("kafka producer could not connect; runs will be delivered by the outbox relay", errorFields(err));
      this.scheduleReconnect();
      return false;
    }
  }

  private async connect(): Promise<void> {
    await this.producer.connect();
    await this.prepare();
    this.connected = true;
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(async () => {
      this.reconnectTimer = undefined;
      if (this.closed || this.connected) return;
      try {
        await this.connect();
        this.log.info("kafka producer reconnected");
      } catch {
        this.scheduleReconnect();
      }
    }, 1000);
  }

  publish(msg: OutgoingMessage): Promise<PublishOutcome> {
    if (this.closed || this.breaker?.rejecting) {
      this.stats.deferred++;
      return Promise.resolve("deferred");
    }
    return new Promise<PublishOutcome>((resolve) => {
      let settled = false;
      const timer = setTimeout(() => finish(false), this.timeoutMs);
      const finish = (ok: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (ok) this.stats.published++;
        else this.stats.deferred++;
        resolve(ok ? "published" : "deferred");
      };
      this.queue.push({ msg, resolve: finish });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends a batch and waits for the broker's ack; throws on failure (used by the relay). */
  async sendBatch(messages: OutgoingMessage[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const m of messages) {
      const list = byTopic.get(m.topic) ?? [];
      list.push({ key: m.key, value: m.value, headers: m.headers });
      byTopic.set(m.topic, list);
    }
    try {
      await this.producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs })) });
    } catch (err) {
      if (this.idempotent && outOfSequence(err)) this.replaceProducer();
      throw err;
    }
  }

  /**
   * kafkajs rolls a partition's sequence back when a request fails, also one the broker wrote
   * before its leader died: the broker then refuses every later batch of that producer id as out of
   * order. A new producer gets a new id; what was in doubt is redelivered by the outbox, and
   * consumers already treat a repeated run message as a no-op.
   */
  private replaceProducer(): void {
    const old = this.producer;
    this.producer = this.createProducer();
    this.connected = false;
    this.log.warn("kafka producer sequence out of order after a failure: starting a new idempotent producer");
    old.disconnect().catch(() => {});
    this.scheduleReconnect();
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    // Idempotent mode sends one request at a time (kafkajs serializes them per broker anyway):
    // messages published meanwhile go together in the next one instead of queueing one by one.
    if (this.idempotent) {
      if (this.sending) return;
      this.sending = true;
      try {
        await this.flushOnce();
      } finally {
        this.sending = false;
        if (this.queue.length > 0 && !this.flushScheduled) {
          this.flushScheduled = true;
          setImmediate(() => this.flush());
        }
      }
      return;
    }
    await this.flushOnce();
  }

  private async flushOnce(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const send = async () => {
      if (!this.connected) throw new Error("the kafka producer is not connected");
      const t0 = performance.now();
      try {
        await this.sendBatch(batch.map((p) => p.msg));
        this.observeSend((performance.now() - t0) / 1000, true);
      } catch (err) {
        this.observeSend((performance.now() - t0) / 1000, false);
        throw err;
      }
    };
    try {
      await (this.breaker ? this.breaker.run(send) : send());
      for (const p of batch) p.resolve(true);
    } catch (err) {
      for (const p of batch) p.resolve(false);
      if (err instanceof CircuitOpen) return;
      this.stats.errors++;
      if (err instanceof CallTimedOut) return;
      if (this.connected)
        this.log.warn("kafka publish failed; the outbox relay will retry", { ...errorFields(err), messages: batch.length });
      this.connected = false;
      this.scheduleReconnect();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    await this.flush();
    await this.producer.disconnect().catch(() => {});
  }
}

/** The broker's OUT_OF_ORDER_SEQUENCE_NUMBER, anywhere in a kafkajs error's chain of causes. */
export function outOfSequence(err: unknown): boolean {
  for (
    let e = err as { type?: unknown; message?: unknown; cause?: unknown; errors?: unknown } | undefined, depth = 0;
    e && depth < 5;
    depth++
  ) {
    if (e.type === "OUT_OF_ORDER_SEQUENCE_NUMBER" || (typeof e.message === "string" && e.message.includes("out of order sequence")))
      return true;
    if (Array.isArray(e.errors) && e.errors.some((x) => outOfSequence(x))) return true;
    e = e.cause as typeof e;
  }
  return false;
}
