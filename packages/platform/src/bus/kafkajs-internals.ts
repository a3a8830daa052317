import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Message, PartitionerArgs } from "kafkajs";

/**
 * kafkajs's unexported modules that patches/kafkajs@2.2.4.patch changes, loaded from the very files
 * the runtime loads the client from, so that tests and micro benchmarks exercise the patched code.
 */
async function internal<T>(path: string): Promise<T> {
  // Resolved on use, not at import: a bundle of the bus (the Node reference's) has no kafkajs to resolve.
  const kafkajsDir = dirname(fileURLToPath(import.meta.resolve("kafkajs")));
  return ((await import(join(kafkajsDir, path))) as { default: T }).default;
}

export interface RequestQueueEntry {
  correlationId: number;
  apiName: string;
  apiKey: number;
  apiVersion: number;
  resolve: (x: unknown) => void;
  reject: (e: unknown) => void;
}

/** The per-connection request queue. */
export interface RequestQueue {
  throttleCheckTimeoutId: unknown;
  push(r: { entry: RequestQueueEntry; expectResponse: boolean; sendRequest: () => void }): void;
  fulfillRequest(r: { correlationId: number; payload: null; size: number }): void;
  maybeThrottle(ms: number): void;
  checkPendingRequests(): void;
  destroy(): void;
}

export const loadRequestQueue = () => internal<new (o: object) => RequestQueue>("src/network/requestQueue/index.js");

/** How the producer splits one topic's messages of a send by partition, keyed by partition number. */
export type GroupMessagesPerPartition = (a: {
  topic: string;
  partitionMetadata: PartitionerArgs["partitionMetadata"];
  messages: Message[];
  partitioner: (a: PartitionerArgs) => number;
}) => Record<string, Message[]>;

export const loadGroupMessagesPerPartition = () => internal<GroupMessagesPerPartition>("src/producer/groupMessagesPerPartition.js");
