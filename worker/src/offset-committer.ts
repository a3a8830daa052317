/** The offset to commit for one partition: the next message to consume there. */
export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * Commits the offsets of finished messages on a timer, away from the fetch path. kafkajs's own
 * auto-commit sends a commit after every batch and waits for it before fetching the next one, a
 * broker round trip on the path of every run (bench/FINDINGS.md, "The Kafka hop"). Only the offset
 * after a contiguous prefix of finished messages is ever given here, so a commit never passes a
 * message that was handed back. A crash loses at most an interval of commits: those messages are
 * delivered again and their runs, already terminal, are not executed twice.
 */
export class OffsetCommitter {
  private readonly pending = new Map<string, PartitionOffset>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly commit: (offsets: PartitionOffset[]) => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** The message at `offset`, and every one before it in its partition, is finished. */
  finished(topic: string, partition: number, offset: string): void {
    this.pending.set(`${topic}/${partition}`, { topic, partition, offset: (BigInt(offset) + 1n).toString() });
    this.arm();
  }

  /** After a rebalance: forgets the partitions this member no longer owns, whose new owner commits them. */
  retain(owned: (topic: string, partition: number) => boolean): void {
    for (const [key, p] of this.pending) if (!owned(p.topic, p.partition)) this.pending.delete(key);
  }

  /**
   * Commits what is pending now, after any commit in flight. A failed commit stays pending for the
   * next. `via`: another way to commit, for when the usual one is closed (a consumer stopping).
   */
  async flush(via = this.commit): Promise<void> {
    while (this.inFlight) await this.inFlight;
    if (this.pending.size === 0) return;
    const offsets = [...this.pending.values()];
    this.pending.clear();
    this.inFlight = via(offsets)
      .catch((err) => {
        // An offset finished since is newer than the one that failed: it wins.
        for (const p of offsets) {
          const key = `${p.topic}/${p.partition}`;
          if (!this.pending.has(key)) this.pending.set(key, p);
        }
        this.onError(err);
        this.arm();
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    await this.inFlight;
  }

  /** Stops the timer; what is pending is not committed. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  // Armed by work and not on an interval, so an idle worker does not wake up for nothing.
  private arm(): void {
    if (this.closed) return;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.intervalMs);
  }
}
