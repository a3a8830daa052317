import type { Sql } from "@wf/platform/sql";
import { stats } from "../flow/stats.ts";
import type { ApiClient } from "./client.ts";
import type { ParkedWaits } from "./results.ts";
import { sequential } from "./sequential.ts";
import { CHAIN_3 } from "./shapes.ts";

const CONCURRENCY = 64;

/**
 * `runs` runs of [delay `delayMs`, transform], triggered 64 at a time. Once all are parked: how
 * many still hold a lease, and chain-3's latency one at a time beside them; then, once the delays
 * are over, how late each run woke and whether every one completed.
 */
export async function parkedWaits(
  api: ApiClient,
  sql: Sql,
  runs: number,
  delayMs: number,
  drainS: number,
  progress: (line: string) => void,
): Promise<ParkedWaits> {
  const workflowId = await api.createWorkflow({
    name: "bench-runs-parked",
    steps: [
      { name: "wait", type: "delay", config: { ms: delayMs } },
      { name: "after", type: "transform", config: { output: "{{input.x}}" } },
    ],
  });
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < runs) await api.trigger(workflowId, next++);
    }),
  );
  progress(`[runs] parked: ${runs} runs triggered in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const count = async () =>
    (
      await sql<{ parked: number; leased: number }[]>`
        SELECT count(*) FILTER (WHERE lease_owner IS NULL AND wake_at IS NOT NULL)::int AS parked,
               count(*) FILTER (WHERE lease_owner IS NOT NULL)::int AS leased
        FROM runs WHERE workflow_id = ${workflowId}::uuid`
    )[0]!;
  let c = await count();
  while (c.parked < runs && performance.now() - t0 < delayMs) {
    await Bun.sleep(100);
    c = await count();
  }
  const allParkedS = (performance.now() - t0) / 1000;
  progress(`[runs] parked: ${c.parked}/${runs} parked after ${allParkedS.toFixed(1)} s, ${c.leased} holding a worker`);
  const beside = await sequential(api, sql, { ...CHAIN_3, name: "chain-3-beside-parked" }, 100, progress);
  progress(`[runs] parked: chain-3 one at a time beside them, trigger → complete p50 ${beside.service_complete.p50_ms} ms`);

  const deadline = t0 + delayMs + drainS * 1000;
  let open = runs;
  while (open > 0 && performance.now() < deadline) {
    await Bun.sleep(500);
    open =
      (
        await sql<{ n: number }[]>`
          SELECT count(*)::int AS n FROM runs WHERE workflow_id = ${workflowId}::uuid AND status IN ('pending', 'running')`
      )[0]?.n ?? 0;
  }
  const rows = await sql<{ late_ms: number | null; status: string }[]>`
    SELECT status,
           extract(epoch FROM finished_at - ((steps->0->>'started_at')::timestamptz + make_interval(secs => ${delayMs / 1000}))) * 1000 AS late_ms
    FROM runs WHERE workflow_id = ${workflowId}::uuid`;
  const late = rows.filter((r) => r.status === "completed" && r.late_ms !== null).map((r) => Number(r.late_ms));
  const completed = rows.filter((r) => r.status === "completed").length;
  return {
    runs,
    delay_ms: delayMs,
    all_parked_s: Math.round(allParkedS * 10) / 10,
    leased_while_parked: c.leased,
    chain3_while_parked: beside,
    late: stats(Float64Array.from(late), 0),
    completed,
    lost: runs - completed,
  };
}
