/** How a run is stored, for the API's store and the worker's alike: its columns and its cached copy. */
import type { Run } from "@wf/core/runs";
import { type Cache, cacheKeys } from "@wf/platform/cache";

/** The cached copy of a run, in the form GET /runs/:id serves; the API and the workers write it alike. */
export const cacheRun = (cache: Cache, run: Run, ttlS: number): Promise<void> =>
  cache.set(cacheKeys.run(run.id), JSON.stringify(run), ttlS);

/** The columns a RunRow is read from (the worker returns them from its terminal write too). */
export const RUN_COLUMNS =
  "id, workflow_id, workflow_version, parent_run_id, schedule_id, replay_of, status, input, output, error, steps, idempotency_key, created_at, started_at, finished_at";
