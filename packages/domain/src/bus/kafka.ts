import { Kafka, logLevel, type Admin, type LogEntry } from "kafkajs";
import type { Config } from "../config/settings.ts";
import type { Logger } from "../observability/logger.ts";

const LEVEL: Record<number, "error" | "warn" | "info" | "debug"> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

/** One Kafka client per process, logging through the service logger. */
export function createKafka(config: Config, log: Logger, clientId = config.kafkaClientId): Kafka {
  return new Kafka({
    clientId,
    brokers: config.kafkaBrokers,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { initialRetryTime: 100, retries: 3, maxRetryTime: 2000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        // A rebalance in progress is routine in a consumer group: kafkajs reports it as an error.
        const routine = typeof rest.error === "string" && rest.error.includes("rebalancing");
        log[routine ? "debug" : (LEVEL[level] ?? "info")](`kafka: ${message}`, rest);
      },
  });
}

/**
 * Creates the topic when it is missing. Topics are never auto-created (on KRaft kafkajs then sees
 * "This server does not host this topic-partition"); an existing topic with fewer partitions than
 * configured is grown, never shrunk.
 */
export async function ensureTopic(admin: Admin, topic: string, partitions: number, log: Logger): Promise<void> {
  const existing = await admin.listTopics();
  if (!existing.includes(topic)) {
    try {
      const created = await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }] });
      if (created) log.info(`created topic ${topic} with ${partitions} partition(s)`);
      return;
    } catch (err) {
      // Replicas starting together race to create it: the loser is fine as long as it exists now.
      if (!(await admin.listTopics()).includes(topic)) throw err;
    }
  }
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  const have = meta.topics[0]?.partitions.length ?? 0;
  if (have < partitions) {
    await admin.createPartitions({ topicPartitions: [{ topic, count: partitions }] });
    log.info(`grew topic ${topic} from ${have} to ${partitions} partition(s)`);
  }
}
