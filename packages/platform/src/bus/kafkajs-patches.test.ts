import { describe, expect, test } from "bun:test";
import { loadGroupMessagesPerPartition, loadRequestQueue, type RequestQueue } from "./kafkajs-internals.ts";
import { keyHash, keyPartitioner } from "./partitioner.ts";

const Queue = await loadRequestQueue();

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function queue(): { q: RequestQueue; sent: number[]; checks: () => number } {
  const q = new Queue({
    maxInFlightRequests: 1,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: "t",
    broker: "b",
    logger: quiet,
  });
  const sent: number[] = [];
  let checks = 0;
  const check = q.checkPendingRequests.bind(q);
  q.checkPendingRequests = () => {
    checks++;
    check();
  };
  return { q, sent, checks: () => checks };
}

const request = (sent: number[], correlationId: number) => ({
  entry: { correlationId, apiName: "Produce", apiKey: 0, apiVersion: 7, resolve() {}, reject() {} },
  expectResponse: true,
  sendRequest: () => sent.push(correlationId),
});

describe("kafkajs request queue (patched)", () => {
  test("an emptied queue arms no timer: no 1 ms polling loop per connection", async () => {
    const { q, sent, checks } = queue();
    q.push(request(sent, 1));
    q.push(request(sent, 2)); // waits: one request in flight at most
    expect(sent).toEqual([1]);
    q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    q.fulfillRequest({ correlationId: 2, payload: null, size: 0 });
    expect(sent).toEqual([1, 2]);
    await Bun.sleep(30); // the 10 ms check armed while request 2 waited has fired by now
    const before = checks();
    await Bun.sleep(100);
    // Unpatched, the queue re-checks itself about once a millisecond from here on, forever.
    expect(checks() - before).toBe(0);
    expect(q.throttleCheckTimeoutId).toBeNull();
    q.destroy();
  });

  test("a request held back by a broker's throttle is still sent when the throttle ends", async () => {
    const { q, sent } = queue();
    q.maybeThrottle(40);
    q.push(request(sent, 1));
    expect(sent).toEqual([]);
    await Bun.sleep(80);
    expect(sent).toEqual([1]);
    q.destroy();
  });
});

const group = await loadGroupMessagesPerPartition();

describe("kafkajs producer's grouping by partition (patched)", () => {
  const partitionMetadata = [0, 1, 2].map((partitionId) => ({ partitionErrorCode: 0, partitionId, leader: 0, replicas: [0], isr: [0] }));
  const messages = Array.from({ length: 3000 }, (_, i) => ({ key: `run-${i}`, value: String(i) }));
  const partitioner = keyPartitioner();

  test("every message lands in its key's partition, in the order it was given", () => {
    const grouped = group({ topic: "runs", partitionMetadata, messages, partitioner });
    expect(Object.keys(grouped).sort()).toEqual(["0", "1", "2"]);
    for (const [partition, list] of Object.entries(grouped)) {
      const expected = messages.filter((m) => keyHash(m.key) % 3 === Number(partition));
      expect(list).toEqual(expected);
      // The message objects themselves, not copies: the producer encodes what the caller gave.
      expect(list.every((m, i) => m === expected[i])).toBe(true);
    }
    expect(Object.values(grouped).reduce((n, l) => n + l.length, 0)).toBe(messages.length);
  });

  test("a message's explicit partition wins over its key", () => {
    const pinned = [
      { key: "a", value: "1", partition: 2 },
      { key: "a", value: "2" },
    ];
    const grouped = group({ topic: "runs", partitionMetadata, messages: pinned, partitioner });
    expect(grouped["2"]).toContain(pinned[0]!);
    expect(Object.values(grouped).flat()).toHaveLength(2);
  });

  test("a topic without partition metadata groups nothing", () => {
    expect(group({ topic: "runs", partitionMetadata: [], messages, partitioner })).toEqual({});
  });
});
