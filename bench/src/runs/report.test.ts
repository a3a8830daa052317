import { describe, expect, test } from "bun:test";
import type { Stats } from "../results.ts";
import { againstRunsBaseline, toBaseline } from "./baseline.ts";
import { buildRunsReport, targetLines } from "./report.ts";
import type { LoadStep, RunsResults } from "./results.ts";

const stat = (p50: number, p99: number): Stats => ({
  count: 100,
  ok: 100,
  failed: 0,
  mean_ms: p50,
  p50_ms: p50,
  p90_ms: p50,
  p95_ms: p99,
  p99_ms: p99,
  min_ms: 1,
  max_ms: p99,
});
const step = (o: Partial<LoadStep>): LoadStep => ({
  shape: "chain-3",
  mode: "open",
  offered_rps: 1000,
  concurrency: 256,
  duration_s: 5,
  sent: 5000,
  accepted: 5000,
  accepted_rps: 1000,
  completed_rps: 1000,
  steps_per_s: 3000,
  lost: 0,
  failed: 0,
  duplicate_steps: 0,
  service_start: stat(2, 5),
  service_complete: stat(5, 20),
  trigger_p50_ms: 1,
  trigger_p99_ms: 4,
  ...o,
});
const results = (o: Partial<RunsResults> = {}): RunsResults => ({
  kind: "runs",
  started_at: "2026-12-07T18:00:00.000Z",
  finished_at: "2026-12-07T18:05:00.000Z",
  commit: "abc1234",
  machine: { cores: 2, memory_gib: 24, cpu_model: "test", os: "Linux" },
  versions: { bun: "1.4.5" },
  setup: { api_replicas: 2, worker_replicas: 2, worker_concurrency: 64, sequential_runs: 100, topology: "pgbouncer" },
  shapes: [{ name: "chain-3", steps: 3, description: "three" }],
  sequential: [
    {
      shape: "chain-3",
      runs: 100,
      service_start: stat(2, 6),
      service_complete: stat(3.5, 14),
      client_accepted: stat(1, 2),
      client_complete: stat(5, 16),
      not_completed: 0,
    },
  ],
  load: [
    step({ mode: "closed", offered_rps: null, concurrency: 64, completed_rps: 2700 }),
    step({ offered_rps: 2000, completed_rps: 1990 }),
  ],
  ceiling: [{ clients: 64, duration_s: 10, tps: 9000, via: "pgbouncer" }],
  knee: { "chain-3": 2000 },
  audit: [],
  ...o,
});

describe("execution bench report", () => {
  test("the targets are judged from the chain-3 runs: latency met, throughput not", () => {
    const lines = targetLines(results());
    expect(lines[0]).toStartWith("✅");
    expect(lines[1]).toStartWith("✅");
    expect(lines[2]).toStartWith("❌");
    expect(lines[2]).toContain("2,700 runs/s");
    expect(lines[3]).toStartWith("✅");
  });

  test("a lost run fails the audit line and a step that lost runs does not count towards throughput", () => {
    const lines = targetLines(
      results({ load: [step({ mode: "closed", offered_rps: null, completed_rps: 6000, lost: 3 })], audit: ["lost"] }),
    );
    expect(lines.find((l) => l.includes("runs/s"))).toStartWith("❌");
    expect(lines.at(-1)).toStartWith("❌");
    expect(lines.at(-1)).toContain("3 lost");
  });

  test("a run compared with its own baseline changes nothing; a slower one is worse", () => {
    const r = results();
    const base = toBaseline(r);
    expect(againstRunsBaseline(r, base).every((row) => row.direction === "same")).toBe(true);
    const slower = results({ sequential: [{ ...r.sequential[0]!, service_complete: stat(7, 30) }] });
    const p50 = againstRunsBaseline(slower, base).find((row) => row.figure.includes("trigger → complete p50"));
    expect(p50).toMatchObject({ now: 7, base: 3.5, direction: "worse" });
  });

  test("the report says how close the engine came to the rows pgbench wrote", () => {
    const text = JSON.stringify(
      buildRunsReport(
        results({
          load: [step({ completed_rps: 1500, database: { commits_per_run: 0.3, wal_bytes_per_run: 900, rows_written_per_run: 6 } })],
        }),
        undefined,
      ),
    );
    // 1,500 runs/s × 6 rows over 9,000 tps × 2 rows
    expect(text).toContain("**50 %**");
  });

  test("peers measured in the same run are shown beside this engine, with the ratios", () => {
    const peer = {
      peer: "restate",
      version: "1.7.12",
      started_s: 2,
      load_at_start: [1, 1, 1] as [number, number, number],
      sequential: {
        runs: 100,
        failed: 0,
        accepted: stat(1, 2),
        completed: stat(10, 20),
        runs_per_s: 90,
        cpu_ms_per_run: 11,
        cpu: {} as never,
      },
      oha: {
        command: "oha",
        elapsed_s: 10,
        requests: 3000,
        completed: 3000,
        completed_per_s: 300,
        failures: {},
        cut_at_deadline: 0,
        p50_ms: 200,
        p90_ms: 250,
        p99_ms: 300,
        max_ms: 400,
        cpu: {} as never,
        cpu_ms_per_run: 5,
      },
    };
    const text = JSON.stringify(buildRunsReport(results({ peers: [peer] }), undefined));
    // ours: client p50 5 ms, closed loop 2,700 runs/s
    expect(text).toContain('"restate","1.7.12","10.0","20.0","300","2.0×","9.0×"');
  });
});
