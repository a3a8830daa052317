import { createKafka } from "@wf/platform/bus";
import type { Config } from "@wf/platform/config";
import { createLogger } from "@wf/platform/observability";
import { unique } from "./api.ts";

export interface ReadMessage {
  key: string;
  value: unknown;
  partition: number;
  headers: Record<string, string>;
}

/**
 * Reads a topic from the beginning with a real consumer until `until` is satisfied by what has
 * arrived, then keeps listening for `settleMs` more so duplicates would be seen too.
 */
export async function readTopic(
  config: Config,
  topic: string,
  until: (msgs: ReadMessage[]) => boolean,
  { timeoutMs = 40_000, settleMs = 1500 } = {},
): Promise<ReadMessage[]> {
  const kafka = createKafka(config, createLogger("error"), unique("test-reader"));
  const consumer = kafka.consumer({ groupId: unique("test-reader"), sessionTimeout: 10_000 });
  const msgs: ReadMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        const raw = message.value?.toString() ?? "";
        let value: unknown = raw;
        try {
          value = JSON.parse(raw);
        } catch {
          // not JSON (a dead-lettered poison message): kept as text
        }
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, v?.toString() ?? ""]));
        msgs.push({ key: message.key?.toString() ?? "", value, partition, headers });
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (!until(msgs) && Date.now() < deadline) await Bun.sleep(100);
    await Bun.sleep(settleMs);
    return msgs;
  } finally {
    await consumer.disconnect();
  }
}
