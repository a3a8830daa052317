import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, createWorkflow, startApi, type TestApi, unique, waitFor } from "../support/api.ts";
import { startTarget } from "../support/target.ts";
import { groupEnv, startWorkers, type WorkerGroup } from "../support/workers.ts";

// POST /api/v1/runs/bulk/cancel on the real stack: 5,000 runs of one workflow, caught in every
// state a cancel can meet (pending for later, pending in the queue, running in a worker, parked on
// a signal, finishing on their own), cancelled by one call while real workers execute them. Each
// run ends in exactly one terminal state, and the API keeps answering meanwhile.
const RUNS = { later: 2_000, parked: 2_000, slow: 500, quick: 500 };
const TOTAL = RUNS.later + RUNS.parked + RUNS.slow + RUNS.quick;

let api: TestApi;
let workers: WorkerGroup;
const target = startTarget();
beforeAll(async () => {
  api = await startApi();
  workers = startWorkers(2, {
    ...groupEnv(api.config.runsTopic, unique("bulk")),
    EGRESS_ALLOW: "127.0.0.2",
    PARK_AFTER_MS: "200",
    TIMER_POLL_MS: "50",
    CANCEL_POLL_MS: "100",
  });
});
afterAll(async () => {
  await workers?.stopAll("SIGKILL");
  await api?.stop();
  target.stop();
});

interface Row {
  id: string;
  status: string;
  error: string | null;
  finished_at: Date | null;
  lease_owner: string | null;
  wake_at: Date | null;
  steps: Array<{ name: string; status: string }>;
}

/** Triggers with `concurrency` requests in flight: the run ids. */
async function triggerMany(bodies: unknown[], concurrency = 32): Promise<string[]> {
  const ids: string[] = new Array(bodies.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < bodies.length; i = next++) {
        const res = await fetch(`${api.url}/api/v1/trigger`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(bodies[i]),
        });
        expect(res.status).toBe(202);
        ids[i] = ((await res.json()) as { run_id: string }).run_id;
      }
    }),
  );
  return ids;
}

describe("bulk cancel of 5,000 runs while workers execute them", () => {
  test("each run ends once: cancelled, or completed when it finished first; matched and affected add up; again: nothing", async () => {
    const wf = await createWorkflow(api.url, {
      name: unique("bulk-cancel"),
      steps: [
        { name: "start", type: "transform", config: { output: { kind: "{{input.kind}}" } } },
        { name: "hold", type: "wait_for_signal", needs: ["start"], if: "input.kind == 'parked'", config: { signal: "go" } },
        {
          name: "call",
          type: "http",
          needs: ["start"],
          if: "input.kind == 'slow'",
          config: { method: "GET", url: `${target.url}/slow/bulk/4000`, timeout_ms: 10_000 },
        },
      ],
    });
    const bodies = [
      ...Array.from({ length: RUNS.later }, () => ({ workflow_id: wf, input: { kind: "later" }, delay_ms: 3_600_000 })),
      ...Array.from({ length: RUNS.parked }, () => ({ workflow_id: wf, input: { kind: "parked" } })),
      ...Array.from({ length: RUNS.slow }, () => ({ workflow_id: wf, input: { kind: "slow" } })),
      ...Array.from({ length: RUNS.quick }, () => ({ workflow_id: wf, input: { kind: "quick" } })),
    ].sort(() => Math.random() - 0.5);
    const t0 = performance.now();
    const ids = await triggerMany(bodies);
    console.log(`triggered ${ids.length} runs in ${(performance.now() - t0).toFixed(0)} ms`);
    const counts = async () =>
      Object.fromEntries(
        (
          await api.services.sql<{ status: string; parked: boolean; n: number }[]>`
            SELECT status, (status = 'running' AND lease_owner IS NULL) AS parked, count(*)::int AS n
            FROM runs WHERE workflow_id = ${wf}::uuid GROUP BY 1, 2`
        ).map((r) => [`${r.status}${r.parked ? " (parked)" : ""}`, r.n]),
      );
    // Let the workers get going: some runs parked, some in a worker, some done.
    await waitFor("some runs parked and some in a worker", async () => {
      const c = await counts();
      return (c["running (parked)"] ?? 0) >= 200 && (c.running ?? 0) > 0;
    });
    const before = await counts();
    console.log(`before the bulk cancel: ${JSON.stringify(before)}`);

    // The API keeps answering while the bulk cancel runs.
    let bulkDone = false;
    const probeMs: number[] = [];
    const probe = (async () => {
      while (!bulkDone) {
        const s = performance.now();
        const r = await fetch(`${api.url}/api/v1/runs?workflow_id=${wf}&limit=5`);
        await r.arrayBuffer();
        expect(r.status).toBe(200);
        probeMs.push(performance.now() - s);
        await Bun.sleep(20);
      }
    })();
    const t1 = performance.now();
    const bulk = await call(api.url, "POST", "/api/v1/runs/bulk/cancel", { workflow_id: wf });
    const bulkMs = performance.now() - t1;
    bulkDone = true;
    await probe;
    expect(bulk.status).toBe(200);
    console.log(
      `bulk cancel: ${JSON.stringify(bulk.body)} in ${bulkMs.toFixed(0)} ms; ${probeMs.length} list requests meanwhile, slowest ${Math.max(...probeMs).toFixed(0)} ms`,
    );
    expect(Math.max(...probeMs)).toBeLessThan(Math.max(2_000, bulkMs / 2));

    // Settled: no run unfinished, and the workers recorded the steps of the runs they were executing.
    const live = (r: Row) => r.steps.some((s) => ["running", "waiting"].includes(s.status));
    const rows = await waitFor(
      "every run finished and its steps recorded",
      async () => {
        const r = await api.services.sql<Row[]>`
          SELECT id::text, status, error, finished_at, lease_owner, wake_at, steps FROM runs WHERE workflow_id = ${wf}::uuid`;
        return r.every((x) => x.status !== "pending" && x.status !== "running" && !live(x)) && r;
      },
      60_000,
    );
    console.log(
      `cancelled runs whose worker has not let go yet (it notices at its next poll): ${rows.filter((r) => r.lease_owner !== null).length}`,
    );
    expect(rows.length).toBe(TOTAL);
    const byStatus = (s: string) => rows.filter((r) => r.status === s);
    const kinds = new Map(ids.map((id, i) => [id, (bodies[i] as { input: { kind: string } }).input.kind]));
    const cancelled = byStatus("cancelled");
    const completed = byStatus("completed");
    expect(cancelled.length + completed.length).toBe(TOTAL);
    // Runs that cannot finish on their own were all cancelled; those that did finish completed.
    for (const r of cancelled) {
      expect(r.error).toBe("cancelled by request");
      expect(r.finished_at).not.toBeNull();
      expect(r.wake_at).toBeNull();
      // No step left running or waiting: a parked run's are marked by the cancel, a running one's by its worker.
      expect(r.steps.filter((s) => ["running", "waiting"].includes(s.status))).toEqual([]);
    }
    for (const r of rows.filter((x) => ["later", "parked"].includes(kinds.get(x.id)!))) expect(r.status).toBe("cancelled");
    for (const r of completed) {
      expect(["quick", "slow"]).toContain(kinds.get(r.id)!);
      expect(r.error).toBeNull();
      expect(r.steps.every((s) => ["completed", "skipped"].includes(s.status))).toBe(true);
    }
    const parkedSteps = cancelled.filter((r) => kinds.get(r.id) === "parked" && r.steps.some((s) => s.name === "hold"));
    expect(parkedSteps.length).toBeGreaterThan(0);
    for (const r of parkedSteps) expect(r.steps.find((s) => s.name === "hold")!.status).toBe("cancelled");

    // matched: the unfinished runs when it looked; affected: those it cancelled (all the cancelled ones).
    const { matched, affected } = bulk.body as { matched: number; affected: number };
    expect(affected).toBe(cancelled.length);
    expect(matched).toBeGreaterThanOrEqual(affected);
    expect(matched).toBeLessThanOrEqual(TOTAL - (before.completed ?? 0));
    expect(matched - affected).toBeLessThanOrEqual(completed.length);

    expect((await call(api.url, "POST", "/api/v1/runs/bulk/cancel", { workflow_id: wf })).body).toEqual({ matched: 0, affected: 0 });
    // Nothing changes afterwards: a cancelled run stays cancelled, whatever its worker still writes.
    await Bun.sleep(1_000);
    const again = await api.services.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM runs WHERE workflow_id = ${wf}::uuid AND status = 'cancelled'`;
    expect(again[0]!.n).toBe(cancelled.length);
  }, 240_000);
});
