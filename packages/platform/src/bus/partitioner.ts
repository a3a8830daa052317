import type { ICustomPartitioner, PartitionerArgs } from "kafkajs";

/** 32-bit FNV-1a over a key's UTF-16 code units: deterministic and allocation-free. */
export function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The producer's partitioner: a keyed message goes to the partition its key hashes to, so the
 * messages of one run (republished or not) share a partition and so one consumer at a time;
 * without a key, round robin over the partitions that have a leader.
 *
 * kafkajs's default hashes keys with a Java-compatible murmur2 that allocates a 64-bit `Long`
 * object per arithmetic step (its cost: bench/FINDINGS.md). Only this service produces to its
 * topics, so nothing needs the Java client's choice of partition.
 */
export const keyPartitioner: ICustomPartitioner = () => {
  let next = 0;
  return ({ partitionMetadata, message }: PartitionerArgs): number => {
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    const key = message.key;
    if (key !== undefined && key !== null)
      return keyHash(typeof key === "string" ? key : key.toString("latin1")) % partitionMetadata.length;
    const led = partitionMetadata.filter((p) => p.leader >= 0);
    const pool = led.length > 0 ? led : partitionMetadata;
    return pool[next++ % pool.length]!.partitionId;
  };
};
