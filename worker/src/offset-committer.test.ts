import { describe, expect, test } from "bun:test";
import { OffsetCommitter, type PartitionOffset } from "./offset-committer.ts";

// The committer's own rules; committing to a real broker is covered by batch-consumer.test.ts.
describe("OffsetCommitter", () => {
  const committer = (fail = () => false) => {
    const commits: PartitionOffset[][] = [];
    const errors: unknown[] = [];
    const c = new OffsetCommitter(
      async (offsets) => {
        if (fail()) throw new Error("rebalancing");
        commits.push(offsets);
      },
      20,
      (e) => errors.push(e),
    );
    return { c, commits, errors };
  };

  test("commits the offset after the last finished message of each partition, once per interval", async () => {
    const { c, commits } = committer();
    c.finished("runs", 0, "4");
    c.finished("runs", 0, "9");
    c.finished("runs", 1, "0");
    expect(commits).toEqual([]);
    await Bun.sleep(60);
    expect(commits).toEqual([
      [
        { topic: "runs", partition: 0, offset: "10" },
        { topic: "runs", partition: 1, offset: "1" },
      ],
    ]);
    c.close();
  });

  test("a failed commit is retried, unless a newer offset of the partition finished meanwhile", async () => {
    let failing = true;
    const { c, commits, errors } = committer(() => failing);
    c.finished("runs", 0, "1");
    c.finished("runs", 1, "1");
    const first = c.flush();
    c.finished("runs", 0, "5");
    await first;
    expect(errors.length).toBe(1);
    failing = false;
    await c.flush();
    expect(commits).toEqual([
      [
        { topic: "runs", partition: 0, offset: "6" },
        { topic: "runs", partition: 1, offset: "2" },
      ],
    ]);
    c.close();
  });

  test("after a rebalance, partitions no longer owned are not committed", async () => {
    const { c, commits } = committer();
    c.finished("runs", 0, "1");
    c.finished("runs", 1, "1");
    c.retain((_, partition) => partition === 1);
    await c.flush();
    expect(commits).toEqual([[{ topic: "runs", partition: 1, offset: "2" }]]);
    c.close();
  });

  test("closed, it arms no timer and commits nothing more on its own", async () => {
    const { c, commits } = committer();
    c.close();
    c.finished("runs", 0, "1");
    await Bun.sleep(60);
    expect(commits).toEqual([]);
  });
});
