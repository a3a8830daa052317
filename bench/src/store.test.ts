import { describe, expect, test } from "bun:test";
import { loadConfig } from "@wf/platform/config";
import { OptionError } from "./options.ts";
import { benchStore } from "./store.ts";

const ENV = {
  DATABASE_URL: "postgres://wf:pw@127.0.0.1:6432/wf",
  DATABASE_DIRECT_URL: "postgres://wf:pw@127.0.0.1:5432/wf",
};
const config = loadConfig(ENV);

describe("benchStore", () => {
  test("by default the service's database name with _bench, its own topics and group, through PgBouncer", () => {
    const s = benchStore(config, undefined, "pgbouncer");
    expect(s.database).toBe("wf_bench");
    expect(s.url).toBe("postgres://wf:pw@127.0.0.1:6432/wf_bench");
    expect(s.directUrl).toBe("postgres://wf:pw@127.0.0.1:5432/wf_bench");
    expect(s).toMatchObject({
      runsTopic: `${config.runsTopic}-wf-bench`,
      deadLetterTopic: `${config.runsTopic}-wf-bench-dlq`,
      groupId: `${config.workerGroupId}-wf-bench`,
    });
    expect(s.env).toEqual({
      DATABASE_URL: s.url,
      DATABASE_DIRECT_URL: s.directUrl,
      KAFKA_RUNS_TOPIC: s.runsTopic,
      KAFKA_DEAD_LETTER_TOPIC: s.deadLetterTopic,
      WORKER_GROUP_ID: s.groupId,
    });
  });

  test("with DATABASE_READ_URL the servers read the bench's database on the replica", () => {
    const replica = loadConfig({ ...ENV, DATABASE_READ_URL: "postgres://wf:pw@127.0.0.1:6433/wf" });
    expect(benchStore(replica, undefined, "pgbouncer").env.DATABASE_READ_URL).toBe("postgres://wf:pw@127.0.0.1:6433/wf_bench");
  });

  test("with --topology direct the servers query PostgreSQL itself", () => {
    const s = benchStore(config, "perf", "direct");
    expect(s.url).toBe("postgres://wf:pw@127.0.0.1:5432/perf");
    expect(s.env.DATABASE_URL).toBe(s.directUrl);
  });

  test("refuses the service's own database (the bench empties its database) and names that need quoting", () => {
    expect(() => benchStore(config, "wf", "pgbouncer")).toThrow(OptionError);
    for (const bad of ["", "Bench", "wf-bench", 'x"; DROP', "1wf", "a".repeat(64)])
      expect(() => benchStore(config, bad, "pgbouncer")).toThrow(OptionError);
  });
});
