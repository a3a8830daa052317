import { describe, expect, test } from "bun:test";
import { checkResult } from "./client.ts";
import { parseOhaJson } from "./oha.ts";
import { parseOptions } from "./options.ts";
import { databaseUrl } from "./settings.ts";
import { expectedValue, logLine, transformOne, transformTwo } from "./workload.ts";

describe("options", () => {
  test("defaults and one peer", () => {
    const o = parseOptions(["--peer", "dbos"]);
    expect(o).toEqual({ peers: ["dbos"], sequential: 200, warmup: 20, rate: 500, seconds: 10, connections: 64 });
  });
  test("all, a list, and numbers", () => {
    expect(parseOptions(["--peer", "all"]).peers).toEqual(["restate", "dbos", "graphile-worker"]);
    const o = parseOptions([
      "--peer",
      "restate,graphile-worker",
      "--sequential",
      "0",
      "--rate",
      "800",
      "--seconds",
      "20",
      "--json",
      "x.json",
    ]);
    expect(o.peers).toEqual(["restate", "graphile-worker"]);
    expect([o.sequential, o.rate, o.seconds, o.json]).toEqual([0, 800, 20, "x.json"]);
  });
  test("refuses what it does not know", () => {
    expect(() => parseOptions([])).toThrow("--peer is required");
    expect(() => parseOptions(["--peer", "temporal"])).toThrow("unknown peer temporal");
    expect(() => parseOptions(["--peer", "dbos", "--rate", "0"])).toThrow("--rate needs an integer >= 1");
    expect(() => parseOptions(["--peer", "dbos", "--fast"])).toThrow("unknown option --fast");
  });
});

describe("workload", () => {
  test("three steps give (x + 1) * 2", () => {
    const one = transformOne({ x: 4 });
    const two = transformTwo(one);
    const original = console.log;
    console.log = () => {};
    try {
      const three = logLine("r1", two);
      expect(three).toEqual({ line: "peer-bench run r1 v=10", v: 10 });
      expect(checkResult(4, three, "test")).toBe(three);
    } finally {
      console.log = original;
    }
    expect(expectedValue(4)).toBe(10);
  });
  test("a wrong or malformed result is refused", () => {
    expect(() => checkResult(4, { line: "x", v: 9 }, "t")).toThrow("expected 10");
    expect(() => checkResult(4, { v: 10 }, "t")).toThrow("unexpected result");
  });
});

test("databaseUrl keeps server and role, changes the database", () => {
  expect(databaseUrl("dbos_bench", "postgres://wf:wf@127.0.0.1:5432/wf")).toBe("postgres://wf:wf@127.0.0.1:5432/dbos_bench");
});

test("oha JSON: completed runs are the 2xx answers; requests cut at the deadline are not failures", () => {
  const json = JSON.stringify({
    summary: { successRate: 1, total: 10, slowest: 0.5, fastest: 0.001, average: 0.02, requestsPerSec: 99.5 },
    latencyPercentiles: { p10: 0.005, p50: 0.01, p90: 0.02, p95: 0.03, p99: 0.0456789, "p99.9": 0.1 },
    statusCodeDistribution: { "200": 990, "500": 3 },
    errorDistribution: { "aborted due to deadline": 7, "connection closed before message completed": 2 },
  });
  const r = parseOhaJson(json, "oha ...");
  expect(r.completed).toBe(990);
  expect(r.completed_per_s).toBe(99);
  expect(r.requests).toBe(995);
  expect(r.cut_at_deadline).toBe(7);
  expect(r.failures).toEqual({ http_500: 3, "connection closed before message completed": 2 });
  expect([r.p50_ms, r.p90_ms, r.p99_ms, r.max_ms]).toEqual([10, 20, 45.68, 500]);
  expect(() => parseOhaJson("{}", "oha")).toThrow("not oha's JSON output");
});
