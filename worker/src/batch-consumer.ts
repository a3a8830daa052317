import { decodeRunMessage } from "@wf/core/runs";
import type { Publisher } from "@wf/platform/bus";
import type { Config } from "@wf/platform/config";
import type { Span, Tracing } from "@wf/platform/observability";
import { errorFields, type Logger } from "@wf/platform/observability";
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from "kafkajs";
import pLimit from "p-limit";
import { OffsetCommitter } from "./offset-committer.ts";
import { type Handled, type RunExecutor, UnknownRun } from "./run-executor.ts";

const RETRY_MAX_MS = 5000;
/** kafkajs sends a heartbeat at most this often, however often it is asked to. */
const HEARTBEAT_MS = 1000;

/**
 * The Kafka side of a worker. Messages of a batch run concurrently (runs are independent), at most
 * `workerConcurrency` per process; an offset is resolved only once every message before it in the
 * partition is finished, and committed after that (by the OffsetCommitter), so a crash redelivers anything unfinished
 * (at-least-once) and a redelivered finished run is a no-op. A message that cannot be processed
 * goes to the dead-letter topic with its reason instead of blocking the partition.
 */
export class BatchConsumer {
  private readonly consumer: Consumer;
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly offsets: OffsetCommitter;
  private readonly shutdown = new AbortController();
  private readonly active = new Set<Promise<unknown>>();
  private stopping = false;
  readonly stats = { deadLettered: 0 };
  /** Messages behind each partition's high watermark ("topic/partition"), as of its last batch. */
  readonly lag = new Map<string, number>();

  constructor(
    kafka: Kafka,
    private readonly executor: RunExecutor,
    private readonly publisher: Publisher,
    private readonly log: Logger,
    private readonly config: Config,
    private readonly tracing?: Tracing,
  ) {
    this.consumer = kafka.consumer({
      groupId: config.workerGroupId,
      sessionTimeout: 10_000,
      heartbeatInterval: HEARTBEAT_MS,
      rebalanceTimeout: 30_000,
      allowAutoTopicCreation: false,
    });
    this.limit = pLimit(config.workerConcurrency);
    this.offsets = new OffsetCommitter(
      (offsets) => this.consumer.commitOffsets(offsets),
      config.workerCommitIntervalMs,
      (err) => log.warn("committing offsets failed; retrying", errorFields(err)),
    );
    // What kafkajs's auto-commit did at these moments: commit before a rebalance moves partitions
    // away, and forget those the new assignment does not include.
    this.consumer.on(this.consumer.events.REBALANCING, () => void this.offsets.flush());
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      const owned = payload.memberAssignment;
      this.offsets.retain((topic, partition) => owned[topic]?.includes(partition) ?? false);
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.config.runsTopic, fromBeginning: true });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: false,
      partitionsConsumedConcurrently: 64,
      eachBatch: (payload) => this.track(this.onBatch(payload)),
    });
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.active.add(p);
    return p.finally(() => this.active.delete(p));
  }

  private async onBatch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
    commitOffsetsIfNecessary,
  }: EachBatchPayload): Promise<void> {
    const msgs = batch.messages;
    this.lag.set(`${batch.topic}/${batch.partition}`, Math.max(0, Number(batch.offsetLag())));
    const done = new Array<boolean>(msgs.length).fill(false);
    let next = 0;
    const advance = () => {
      const from = next;
      while (next < msgs.length && done[next]) resolveOffset(msgs[next++]!.offset);
      if (next > from) this.offsets.finished(batch.topic, batch.partition, msgs[next - 1]!.offset);
    };
    // A batch lasts as long as its longest run (a delay step, a slow http call, a lease to wait
    // out): the heartbeat goes on a clock, or a batch longer than the session timeout gets this
    // member expelled and its partitions moved mid-run. Only on the clock: a heartbeat asked for
    // after every message (20,000 poison messages in a test) piled up thousands of requests that
    // outlived the client's request timeout, and the member was expelled all the same. Never
    // awaited: a heartbeat stuck behind a rebalance must not hold up the runs.
    const clock = setInterval(() => void heartbeat().catch(() => {}), HEARTBEAT_MS);
    try {
      await Promise.all(
        msgs.map((m, i) =>
          this.limit(async () => {
            // Not started, not resolved: the message is delivered again to whoever owns the partition next.
            if (this.stopping || !isRunning() || isStale()) return;
            if ((await this.handle(m, batch.partition)) === "done") done[i] = true;
            advance();
          }),
        ),
      );
    } finally {
      clearInterval(clock);
    }
    // Stopping: the consumer leaves the group once its batches are over, so this is the last
    // moment its commits are accepted, and only through the batch (kafkajs's consumer-wide commit
    // does nothing once stop() is called).
    if (this.stopping)
      await this.offsets.flush((offsets) =>
        commitOffsetsIfNecessary({
          topics: [...new Set(offsets.map((o) => o.topic))].map((topic) => ({
            topic,
            partitions: offsets.filter((o) => o.topic === topic).map(({ partition, offset }) => ({ partition, offset })),
          })),
        }),
      );
  }

  /** With tracing, the message's processing is a span continuing the trace of the trigger that sent it. */
  private async handle(m: KafkaMessage, partition: number): Promise<Handled> {
    if (!this.tracing) return this.process(m, partition);
    const span = this.tracing.startConsumerSpan(this.config.runsTopic, m.headers, {
      "messaging.consumer.group.name": this.config.workerGroupId,
      "messaging.destination.partition.id": String(partition),
      "messaging.kafka.offset": Number(m.offset),
      "messaging.kafka.message.key": m.key?.toString() ?? "",
    });
    try {
      const handled = await this.process(m, partition, span);
      span.setAttribute("workflow.message.outcome", handled);
      return handled;
    } finally {
      span.end();
    }
  }

  /** Retries transient failures (database, Kafka down) until they pass or the worker stops. */
  private async process(m: KafkaMessage, partition: number, span?: Span): Promise<Handled> {
    const deadLetter = (reason: string) => {
      span?.setAttribute("workflow.dead_letter.reason", reason);
      return this.deadLetter(m, partition, reason);
    };
    const parsed = decodeRunMessage(m.value?.toString());
    if (typeof parsed === "string") return deadLetter(`bad message: ${parsed}`);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.executor.execute(parsed.run_id, this.shutdown.signal, span);
      } catch (err) {
        if (err instanceof UnknownRun) return deadLetter(err.message);
        if (this.shutdown.signal.aborted) return "handed_back";
        const wait = Math.min(RETRY_MAX_MS, 100 * 2 ** attempt);
        this.log.warn("run message failed; retrying", { run_id: parsed.run_id, attempt, wait_ms: wait, ...errorFields(err) });
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /**
   * Through the batching publisher: the messages dead-lettered in one event-loop turn go out as one
   * produce request. One request each made a backlog of poison messages (20,000 in a test) a storm
   * of produce requests that outlasted the client's request timeout.
   */
  private async deadLetter(m: KafkaMessage, partition: number, reason: string): Promise<Handled> {
    const message = {
      topic: this.config.deadLetterTopic,
      key: m.key?.toString() ?? "",
      value: m.value?.toString() ?? "",
      headers: {
        reason,
        source_topic: this.config.runsTopic,
        source_partition: String(partition),
        source_offset: m.offset,
        failed_at: new Date().toISOString(),
      },
    };
    for (let attempt = 1; ; attempt++) {
      if ((await this.publisher.publish(message)) === "published") {
        this.stats.deadLettered++;
        this.log.warn("message sent to the dead-letter topic", { reason, partition, offset: m.offset });
        return "done";
      }
      if (this.shutdown.signal.aborted) return "handed_back";
      this.log.warn("could not dead-letter a message; retrying", { attempt, partition, offset: m.offset });
      await new Promise((r) => setTimeout(r, Math.min(RETRY_MAX_MS, 100 * 2 ** attempt)));
    }
  }

  /**
   * Graceful stop: no new message starts; runs in flight get `graceMs` to finish, then are handed
   * back (progress saved, lease released, offset not committed); resolved offsets are committed as
   * the consumer leaves the group.
   */
  async stop(graceMs: number, inflight: () => number, handBack: () => void): Promise<void> {
    this.stopping = true;
    const deadline = Date.now() + graceMs;
    // What finished before now, committed while still a member; batches in flight commit as they end.
    await this.offsets.flush();
    const stopping = this.consumer.stop();
    while (inflight() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    this.shutdown.abort("shutdown");
    handBack();
    await Promise.allSettled([...this.active]);
    await stopping;
    this.offsets.close();
    await this.consumer.disconnect();
  }
}
