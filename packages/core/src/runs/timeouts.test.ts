import { describe, expect, test } from "bun:test";
import type { StepResult } from "./run.ts";
import { executionLimit, stopUnfinished, timeoutError } from "./timeouts.ts";

describe("run time limits", () => {
  test("an execution lasts RUN_TIMEOUT_MS, or what is left of the workflow's timeout if less", () => {
    expect(executionLimit(300_000, null)).toEqual({ ms: 300_000, byWorkflow: false });
    expect(executionLimit(300_000, 300_000)).toEqual({ ms: 300_000, byWorkflow: false });
    expect(executionLimit(300_000, 1_500)).toEqual({ ms: 1_500, byWorkflow: true });
    expect(executionLimit(300_000, -20)).toEqual({ ms: 0, byWorkflow: true });
  });

  test("the error names the limit that ended the run", () => {
    expect(timeoutError({ ms: 10, byWorkflow: true }, 300_000, 2_000)).toBe("run exceeded its workflow's timeout_ms of 2000 ms");
    expect(timeoutError({ ms: 300_000, byWorkflow: false }, 300_000, null)).toBe("run exceeded its time limit of 300000 ms");
  });

  test("stopUnfinished cancels the steps and items not over, and keeps the rest", () => {
    const t = "2030-01-01T00:00:00.000Z";
    const steps: StepResult[] = [
      { name: "a", status: "completed", attempts: 1, started_at: t, finished_at: t, output: 1 },
      { name: "b", status: "waiting", attempts: 1, started_at: t, finished_at: null, wait: { signal: "go" } },
      {
        name: "c",
        status: "waiting",
        attempts: 1,
        started_at: t,
        finished_at: null,
        items: [
          { status: "completed", attempts: 1, output: 1 },
          { status: "waiting", attempts: 1, wait: { until: t } },
        ],
      },
      { name: "d", status: "skipped", attempts: 0, started_at: null, finished_at: t },
    ];
    const at = "2030-01-01T00:00:05.000Z";
    expect(stopUnfinished(steps, "timeout", at)).toEqual([
      steps[0]!,
      { name: "b", status: "cancelled", attempts: 1, started_at: t, finished_at: at, error: "stopped: timeout" },
      {
        name: "c",
        status: "cancelled",
        attempts: 1,
        started_at: t,
        finished_at: at,
        error: "stopped: timeout",
        items: [
          { status: "completed", attempts: 1, output: 1 },
          { status: "cancelled", attempts: 1, wait: { until: t } },
        ],
      },
      steps[3]!,
    ]);
  });
});
