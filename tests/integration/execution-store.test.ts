import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newId } from "@wf/core/ids";
import { ExecutionStore } from "@wf/services/execution";
import { RunStore } from "@wf/services/runs";
import { call, sampleWorkflow, startApi, type TestApi, unique } from "../support/api.ts";

let api: TestApi;
let workflowId: string;
const BALLAST = unique("ballast");

beforeAll(async () => {
  api = await startApi();
  workflowId = (await call(api.url, "POST", "/api/v1/workflows", sampleWorkflow())).body.id;
  // Thousands of running runs, as under load: the planner then reaches a batch's runs by primary
  // key, in the batch's order, instead of walking the few running ones by status. Their lease is
  // live and their topic their own, so no reconciler adopts them meanwhile.
  await api.services.sql`
    INSERT INTO runs (id, workflow_id, workflow_version, definition, status, input, created_at, updated_at, lease_owner, lease_expires_at, topic)
    SELECT gen_random_uuid(), ${workflowId}::uuid, 1, '[]'::jsonb, 'running', '{}'::jsonb, now(), now(), ${BALLAST}, now() + interval '10 minutes', ${BALLAST}
    FROM generate_series(1, 5000)`;
  await api.services.sql`ANALYZE runs`;
});
afterAll(async () => {
  await api.services.sql`DELETE FROM runs WHERE lease_owner = ${BALLAST}`;
  await api.stop();
});

/** `n` runs stored pending (their outbox rows dropped: no worker is meant to see them). */
async function pendingRuns(n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => newId());
  const now = new Date();
  await new RunStore(api.services.sql).insertPending(
    ids.map((id) => ({ id, workflowId, input: {}, idempotencyKey: null, now })),
    unique("no-topic"),
  );
  await api.services.sql`DELETE FROM outbox WHERE key = ANY(${`{${ids.join(",")}}`}::text[])`;
  return ids;
}

describe("execution store, real PostgreSQL through PgBouncer", () => {
  test("a lease renewal and a terminal batch that lock the same runs in opposite orders do not deadlock", async () => {
    // Forced interleaving: a third transaction holds the middle run; the terminal batch (written in
    // descending order) locks the upper half and waits on it; the renewal (ascending) locks the
    // lower half and waits on it too. Once it is let go, the batch needs the lower half. Before
    // renewals skipped locked rows, PostgreSQL found the cycle after its 1 s deadlock timeout and
    // failed the renewal.
    const store = new ExecutionStore(api.services.sql, `test:${unique("owner")}`, 30_000);
    const ids = await pendingRuns(40);
    const claimed = await Promise.all(ids.map((id) => store.claim(id)));
    expect(claimed.every((c) => !("why" in c))).toBe(true);
    const middle = ids[20]!;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let holding!: () => void;
    const held = new Promise<void>((r) => (holding = r));
    const blocker = api.services.sql.begin(async (tx) => {
      await tx`SELECT 1 FROM runs WHERE id = ${middle}::uuid FOR UPDATE`;
      holding();
      await released;
    });
    await held;
    const finishing = Promise.all([...ids].reverse().map((id) => store.finish(id, "completed", [], { ok: true }, null)));
    await Bun.sleep(200);
    const renewing = store.poll(ids, true);
    await Bun.sleep(200);
    release();
    await blocker;
    const [finished, polled] = await Promise.all([finishing, renewing]);
    expect(finished.filter((r) => r?.status !== "completed")).toEqual([]);
    expect(polled.cancelled).toEqual([]);
  });
});
