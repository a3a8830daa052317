import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "./load.ts";

describe("loadConfig", () => {
  test("defaults are valid", () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.kafkaBrokers).toEqual(["127.0.0.1:9092"]);
    expect(c.dbPrepare).toBe(true);
    expect(c.readyRequires).toEqual(["postgres"]);
  });

  test("reads and converts values", () => {
    const c = loadConfig({ PORT: "8080", DB_PREPARE: "false", KAFKA_BROKERS: "a:1, b:2", READY_REQUIRES: "postgres,kafka" });
    expect([c.port, c.dbPrepare, c.kafkaBrokers, c.readyRequires]).toEqual([8080, false, ["a:1", "b:2"], ["postgres", "kafka"]]);
  });

  test("names every bad variable at once", () => {
    try {
      loadConfig({ PORT: "http", DB_POOL_SIZE: "0", REDIS_URL: "localhost:6379", READY_REQUIRES: "mysql" });
      throw new Error("expected a ConfigError");
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const names = (err as ConfigError).problems.map((p) => p.split("=")[0]);
      expect(names).toEqual(["PORT", "DB_POOL_SIZE", "REDIS_URL", "READY_REQUIRES"]);
    }
  });
});
