import type { Sql } from "@wf/platform/sql";
import { stats } from "../flow/stats.ts";
import type { ApiClient } from "./client.ts";
import { runTimings } from "./database.ts";
import type { SequentialRun } from "./results.ts";
import type { Shape } from "./shapes.ts";

/**
 * Latency with nothing else in flight: `runs` runs of a fresh workflow of `shape`, triggered one at
 * a time, each followed to its end by the client before the next is sent. The engine's own
 * timestamps say when the worker claimed it and when it finished; the client's, when it could
 * read the end (what a caller polling the API waits).
 */
export async function sequential(
  api: ApiClient,
  sql: Sql,
  shape: Shape,
  runs: number,
  progress: (line: string) => void,
): Promise<SequentialRun> {
  const workflowId = await api.createWorkflow({ ...shape.definition, name: `${shape.definition.name}-sequential` });
  const accepted = new Float64Array(runs);
  const complete = new Float64Array(runs);
  let notCompleted = 0;
  let last = performance.now();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const runId = await api.trigger(workflowId, i);
    accepted[i] = performance.now() - t0;
    const status = await api.waitTerminal(runId, 30_000);
    complete[i] = performance.now() - t0;
    if (status !== "completed") notCompleted++;
    if (performance.now() - last > 2000) {
      progress(`[runs] ${shape.name} one at a time: ${i + 1}/${runs}`);
      last = performance.now();
    }
  }
  const t = await runTimings(sql, workflowId);
  return {
    shape: shape.name,
    runs,
    service_start: t.start,
    service_complete: t.complete,
    client_accepted: stats(accepted, 0),
    client_complete: stats(complete, notCompleted),
    not_completed: notCompleted + (runs - t.total),
  };
}
