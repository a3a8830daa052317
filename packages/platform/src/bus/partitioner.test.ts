import { describe, expect, test } from "bun:test";
import { newId } from "@wf/core/ids";
import type { PartitionMetadata } from "kafkajs";
import { keyHash, keyPartitioner } from "./partitioner.ts";

const partitions = (n: number, leaderless: number[] = []): PartitionMetadata[] =>
  Array.from({ length: n }, (_, i) => ({
    partitionErrorCode: 0,
    partitionId: i,
    leader: leaderless.includes(i) ? -1 : 1,
    replicas: [1],
    isr: [1],
  }));

describe("keyPartitioner", () => {
  test("a key always goes to the same partition; run ids spread evenly over the partitions", () => {
    const choose = keyPartitioner();
    const meta = partitions(3);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) {
      const key = newId();
      const p = choose({ topic: "t", partitionMetadata: meta, message: { key, value: "v" } });
      expect(choose({ topic: "t", partitionMetadata: meta, message: { key, value: "other" } })).toBe(p);
      counts[p]!++;
    }
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });

  test("a string key and the same key as a buffer hash alike; FNV-1a's published test vectors", () => {
    const choose = keyPartitioner();
    const meta = partitions(7);
    const key = "0196c2a8-7c1e-7d43-9a6b-3f0e2b1c4d5e";
    expect(choose({ topic: "t", partitionMetadata: meta, message: { key: Buffer.from(key), value: null } })).toBe(
      choose({ topic: "t", partitionMetadata: meta, message: { key, value: null } }),
    );
    expect(keyHash("")).toBe(0x811c9dc5);
    expect(keyHash("a")).toBe(0xe40c292c);
    expect(keyHash("foobar")).toBe(0xbf9cf968);
  });

  test("an explicit partition wins; keyless messages go round robin over partitions with a leader", () => {
    const choose = keyPartitioner();
    const meta = partitions(4, [1]);
    expect(choose({ topic: "t", partitionMetadata: meta, message: { key: "k", partition: 3, value: null } })).toBe(3);
    const picked = Array.from({ length: 6 }, () => choose({ topic: "t", partitionMetadata: meta, message: { value: null } }));
    expect(picked).toEqual([0, 2, 3, 0, 2, 3]);
  });
});
