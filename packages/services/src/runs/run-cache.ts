import type { Run } from "@wf/core/runs";
import { type Cache, cacheKeys } from "@wf/platform/cache";

/** The cached copy of a run, in the form GET /runs/:id serves; the API and the workers write it alike. */
export const cacheRun = (cache: Cache, run: Run, ttlS: number): Promise<void> =>
  cache.set(cacheKeys.run(run.id), JSON.stringify(run), ttlS);
