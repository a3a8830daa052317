import { describe, expect, test } from "bun:test";
import { findStackPids, localPort, stackPorts } from "./stack-processes.ts";

const LOCAL = {
  databaseUrl: "postgres://wf:wf@127.0.0.1:6432/wf",
  databaseDirectUrl: "postgres://wf:wf@127.0.0.1:5432/wf",
  redisUrl: "redis://localhost:6379",
  kafkaBrokers: ["127.0.0.1:9092"],
};

describe("the stack's processes", () => {
  test("a port on this machine, or none for another host", () => {
    expect(localPort("postgres://wf:wf@127.0.0.1:6432/wf", 5432)).toBe(6432);
    expect(localPort("redis://localhost", 6379)).toBe(6379);
    expect(localPort("[::1]:9092", 9092)).toBe(9092);
    expect(localPort("db.internal:5432", 5432)).toBeUndefined();
  });

  test("each service's port from the configuration; no PgBouncer when the service talks to PostgreSQL directly", () => {
    expect(stackPorts(LOCAL)).toEqual({ postgres: 5432, pgbouncer: 6432, redis: 6379, kafka: 9092 });
    const direct = stackPorts({
      ...LOCAL,
      databaseUrl: LOCAL.databaseDirectUrl,
      kafkaBrokers: ["kafka-1.internal:9092", "127.0.0.1:19092"],
    });
    expect(direct).toEqual({ postgres: 5432, pgbouncer: undefined, redis: 6379, kafka: 19092 });
  });

  test("the listening process of each port found, services without one left out", () => {
    const listeners: Record<number, number[]> = { 5432: [101], 6379: [303, 304], 9092: [] };
    const pids = findStackPids({ postgres: 5432, pgbouncer: undefined, redis: 6379, kafka: 9092 }, (port) => listeners[port] ?? []);
    expect(pids).toEqual({ postgres: 101, redis: 303 });
  });

  test("on this machine: the process that listens on a port", () => {
    const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      expect(findStackPids({ postgres: undefined, pgbouncer: undefined, redis: server.port, kafka: undefined })).toEqual({
        redis: process.pid,
      });
    } finally {
      server.stop(true);
    }
  });
});
