import { createKafka, ensureTopic } from "@wf/platform/bus";
import type { Config } from "@wf/platform/config";
import { createLogger } from "@wf/platform/observability";
import { stats } from "../flow/stats.ts";
import type { Stats } from "../results.ts";

/**
 * The transport's floor for trigger → start: one message at a time from a kafkajs producer
 * (acks -1, as the API's) to a kafkajs consumer's batch handler (as the workers'), on a topic of
 * its own. A run that crosses Kafka cannot start sooner than this after its trigger is committed.
 */
export async function kafkaHop(config: Config, samples: number): Promise<{ hop: Stats; ack: Stats }> {
  const log = createLogger("warn", { component: "bench-kafka-hop" });
  const kafka = createKafka(config, log, "bench-kafka-hop");
  const topic = `bench-kafka-hop-${Date.now().toString(36)}`;
  const admin = kafka.admin();
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: topic });
  await admin.connect();
  try {
    await ensureTopic(admin, topic, 1, log);
    await Promise.all([producer.connect(), consumer.connect()]);
    await consumer.subscribe({ topic, fromBeginning: true });
    const sentAt = new Map<string, number>();
    const hop: number[] = [];
    let delivered: (() => void) | undefined;
    let ready: () => void = () => {};
    const joined = new Promise<void>((r) => (ready = r));
    consumer.on(consumer.events.GROUP_JOIN, () => ready());
    // No commit after each batch, as the workers (they commit on a timer, off the fetch path).
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const t = sentAt.get(m.value?.toString() ?? "");
          if (t !== undefined) hop.push(performance.now() - t);
        }
        delivered?.();
      },
    });
    await joined;
    const ack: number[] = [];
    for (let i = 0; i < samples; i++) {
      const done = new Promise<void>((r) => (delivered = r));
      const t0 = performance.now();
      sentAt.set(String(i), t0);
      await producer.send({ topic, acks: -1, messages: [{ value: String(i) }] });
      ack.push(performance.now() - t0);
      await done;
    }
    return { hop: stats(Float64Array.from(hop), 0), ack: stats(Float64Array.from(ack), 0) };
  } finally {
    await consumer.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.deleteGroups([topic]).catch(() => {});
    await admin.disconnect();
  }
}
