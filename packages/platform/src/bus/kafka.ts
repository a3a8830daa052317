import { type Admin, Kafka, type LogEntry, logLevel } from "kafkajs";
import type { Config } from "../config/settings.ts";
import type { Logger } from "../observability/logger.ts";

const LEVEL: Record<number, "error" | "warn" | "info" | "debug"> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

/**
 * kafkajs logs every error answer at error level, also those it retries or its caller handles: a
 * rebalance in progress, a group coordinator still loading or moved (a broker's first consumer
 * group, a restart), a topic another replica created first (`ensureTopic` checks it exists). Those
 * are routine: if one leads to a failure for good, whoever gives up logs that at error.
 */
const ROUTINE_ERRORS = /rebalancing|coordinator is loading|coordinator is not available|not the correct coordinator/;
const isRoutine = (message: string, error: unknown) =>
  (typeof error === "string" && (ROUTINE_ERRORS.test(error) || message.startsWith("Response CreateTopics"))) ||
  // Bounded on purpose: the outbox, not endless producer retries, delivers what a producer gave up on.
  message.startsWith("Limiting retries for the idempotent producer");

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
        log[isRoutine(message, rest.error) ? "debug" : (LEVEL[level] ?? "info")](`kafka: ${message}`, rest);
      },
  });
}

/**
 * Creates the topic when it is missing. Topics are never auto-created (on KRaft kafkajs then sees
 * "This server does not host this topic-partition"); an existing topic with fewer partitions than
 * configured is grown, never shrunk.
 */
export interface TopicReplication {
  replicationFactor: number;
  minInsyncReplicas: number;
}

/** The replication a configuration asks for (KAFKA_REPLICATION_FACTOR, KAFKA_MIN_INSYNC_REPLICAS). */
export const topicReplication = (config: Config): TopicReplication => ({
  replicationFactor: config.kafkaReplicationFactor,
  minInsyncReplicas: config.kafkaMinInsyncReplicas,
});

export async function ensureTopic(
  admin: Admin,
  topic: string,
  partitions: number,
  log: Logger,
  replication: TopicReplication = { replicationFactor: 1, minInsyncReplicas: 1 },
): Promise<void> {
  const existing = await admin.listTopics();
  if (!existing.includes(topic)) {
    try {
      // Not kafkajs's waitForLeaders: it asks for the new topic's metadata by name, which a broker
      // answers with an error (logged at error level) until the partitions are served; the wait
      // below reads every topic's metadata instead.
      const created = await admin.createTopics({
        waitForLeaders: false,
        topics: [
          {
            topic,
            numPartitions: partitions,
            replicationFactor: replication.replicationFactor,
            configEntries: [{ name: "min.insync.replicas", value: String(replication.minInsyncReplicas) }],
          },
        ],
      });
      await partitionsWithLeaders(admin, topic);
      if (created)
        log.info(`created topic ${topic} with ${partitions} partition(s)`, {
          replication_factor: replication.replicationFactor,
          min_insync_replicas: replication.minInsyncReplicas,
        });
      return;
    } catch (err) {
      // Replicas starting together race to create it: the loser is fine as long as it exists now.
      if (!(await admin.listTopics()).includes(topic)) throw err;
    }
  }
  const have = await partitionsWithLeaders(admin, topic);
  if (have < partitions) {
    await admin.createPartitions({ topicPartitions: [{ topic, count: partitions }] });
    log.info(`grew topic ${topic} from ${have} to ${partitions} partition(s)`);
  }
}

/**
 * The topic's partition count once each has a leader. A topic another process has just created is
 * listed before its partitions are served, and a metadata request naming it then fails ("does not
 * host this topic-partition"), so this reads every topic's metadata and waits for this one.
 */
async function partitionsWithLeaders(admin: Admin, topic: string, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await admin.fetchTopicMetadata()).topics.find((t) => t.name === topic);
    if (found && found.partitions.length > 0 && found.partitions.every((p) => p.leader >= 0)) return found.partitions.length;
    if (Date.now() > deadline) throw new Error(`topic ${topic} has no leader for every partition after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Resolves once the consumer group's coordinator answers for `groupId`. On a broker's first
 * consumer group the coordinator is "loading" for a few seconds while `__consumer_offsets` is
 * created: a consumer joining then crashes and restarts. Waiting here first lets it join once.
 */
export async function waitForGroupCoordinator(admin: Admin, groupId: string, log: Logger, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.describeGroups([groupId]);
      if (attempt > 1) log.info("the consumer group's coordinator answers", { group: groupId, attempts: attempt });
      return;
    } catch (err) {
      // kafkajs has retried a retriable answer already; its last error is the cause.
      const cause = (err as { cause?: unknown }).cause ?? err;
      const retriable = (cause as { retriable?: unknown }).retriable === true;
      if (!retriable || Date.now() >= deadline) throw err;
      if (attempt === 1)
        log.info("waiting for the consumer group's coordinator", { group: groupId, reason: String((cause as Error).message) });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
