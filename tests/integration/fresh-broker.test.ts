import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unique, waitFor } from "../support/api.ts";
import { collectLines, freePorts } from "../support/replicas.ts";
import { stack } from "../support/stack.ts";
import { startSupervisor } from "../support/workers.ts";

// A Kafka broker of its own, formatted for this file: on a broker's first consumer group the
// coordinator is still "loading" for a few seconds, which the long-lived test broker is past.
let brokerEnv: Record<string, string>;
let broker: string;
beforeAll(async () => {
  const port = await freePorts(2);
  broker = `127.0.0.1:${port}`;
  brokerEnv = {
    STACK_DIR: mkdtempSync(join(tmpdir(), "wf-fresh-kafka-")),
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(port + 1),
  };
  await stack("up", "kafka", brokerEnv);
}, 120_000);
afterAll(async () => {
  if (!brokerEnv) return;
  await stack("down", "kafka", brokerEnv);
  rmSync(brokerEnv.STACK_DIR!, { recursive: true, force: true });
});

describe("a freshly formatted Kafka broker", () => {
  test("bun run worker joins its group on it without a crash, a restart or an error logged", async () => {
    const topic = unique("fresh-runs");
    const sup = startSupervisor({
      KAFKA_BROKERS: broker,
      KAFKA_RUNS_TOPIC: topic,
      KAFKA_DEAD_LETTER_TOPIC: `${topic}.dlq`,
      WORKER_REPLICAS: "2",
      WORKER_GROUP_ID: unique("fresh-workers"),
    });
    const lines = collectLines(sup);
    try {
      await waitFor("both replicas consuming", async () => lines.filter((l) => l.includes("worker consuming")).length === 2, 60_000);
    } finally {
      sup.kill("SIGTERM");
      expect(await sup.exited).toBe(0);
    }
    const level = (l: string) => (JSON.parse(l) as { level: string }).level;
    expect(lines.filter((l) => level(l) === "error")).toEqual([]);
    expect(lines.filter((l) => l.includes("restarting") || l.includes("Restarting"))).toEqual([]);
  }, 120_000);
});
