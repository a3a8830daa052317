import { type ChildRun, StepFailure, type WaitDeps } from "@wf/core/engine";
import { isUuid, newId } from "@wf/core/ids";
import { type RunStatus, validateTrigger } from "@wf/core/runs";
import type { Publisher } from "@wf/platform/bus";
import type { Config } from "@wf/platform/config";
import type { Sql } from "@wf/platform/sql";
import { insertPending, runByIdempotencyKey } from "../runs/pending.ts";

export type WaitsConfig = Pick<Config, "runsTopic" | "triggerMaxInputBytes" | "childRunMaxDepth">;

/** The idempotency key of the child a parent's wait starts: one child per wait, whatever is redone. */
export const childRunKey = (parentRunId: string, key: string): string => `child:${parentRunId}:${key}`;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * What `wait_for_signal` and `workflow` steps need from the world, over PostgreSQL: the signals
 * sent to a run (POST /runs/{id}/signals/{name}) and the child runs its steps start. Each wait
 * names itself with a key stable across redeliveries, so a run done again after a crash or a
 * wake-up finds the signal it took, or the child it started, rather than another.
 */
export class RunWaits {
  constructor(
    private readonly sql: Sql,
    private readonly publisher: Publisher,
    private readonly config: WaitsConfig,
  ) {}

  /** The waits of one run, as the engine calls them. */
  forRun(runId: string): WaitDeps {
    const id = runId.toLowerCase();
    return {
      takeSignal: (name, key) => this.takeSignal(id, name, key),
      startChild: (workflowId, input, key) => this.startChild(id, workflowId, input, key),
      childRun: (childId) => this.childRun(id, childId),
    };
  }

  /**
   * The run's oldest signal of this name that no other wait took, marked as taken by `key`, in one
   * statement; the one `key` took already if there is one (a redo). SKIP LOCKED: two waits of one
   * run taking signals of the same name at once (for_each items) each get their own.
   */
  async takeSignal(runId: string, name: string, key: string): Promise<{ payload: unknown } | undefined> {
    const [row] = await this.sql<{ payload: unknown }[]>`
      WITH mine AS (
        SELECT payload FROM run_signals WHERE run_id = ${runId}::uuid AND consumed_by = ${key} AND name = ${name}
      ), next AS (
        SELECT id FROM run_signals
        WHERE run_id = ${runId}::uuid AND name = ${name} AND consumed_by IS NULL AND NOT EXISTS (SELECT 1 FROM mine)
        ORDER BY id LIMIT 1
        FOR UPDATE SKIP LOCKED
      ), took AS (
        UPDATE run_signals s SET consumed_by = ${key} FROM next WHERE s.id = next.id
        RETURNING s.payload
      )
      SELECT payload FROM mine UNION ALL SELECT payload FROM took`;
    return row && { payload: row.payload };
  }

  /**
   * Starts the child run of a wait, exactly once per `key`: pending, pinned to the child
   * workflow's current definition and version, with its outbox message, in the trigger's own
   * statement (insertPending). The message is then published here; one that is lost stays in the
   * outbox, which the API replicas' relay delivers (OUTBOX_GRACE_MS), as for a trigger whose
   * publish failed. Returns the child's id, the existing one on a redo.
   */
  async startChild(parentRunId: string, workflowId: string, input: unknown, key: string): Promise<string> {
    const idempotencyKey = childRunKey(parentRunId, key);
    const childInput = input ?? {};
    if (!isObject(childInput)) throw new StepFailure("a child run's input must be an object, as a trigger's is", false);
    const problems = validateTrigger({ input: childInput }, { maxInputBytes: this.config.triggerMaxInputBytes });
    if (problems.length > 0) throw new StepFailure(`the child run's input is refused: ${problems[0]!.message}`, false);
    if (!isUuid(workflowId)) throw new StepFailure(`workflow ${workflowId} does not exist`, false);

    // A workflow may start itself (A → B → A can be written): the nesting has a floor.
    const [depth] = await this.sql<{ n: number }[]>`
      WITH RECURSIVE up (id, parent, n) AS (
        SELECT id, parent_run_id, 1 FROM runs WHERE id = ${parentRunId}::uuid
        UNION ALL
        SELECT r.id, r.parent_run_id, up.n + 1 FROM runs r JOIN up ON r.id = up.parent WHERE up.n <= ${this.config.childRunMaxDepth}
      )
      SELECT max(n)::int AS n FROM up`;
    if ((depth?.n ?? 0) >= this.config.childRunMaxDepth)
      throw new StepFailure(
        `child runs nest at most ${this.config.childRunMaxDepth} deep (CHILD_RUN_MAX_DEPTH): no child run is started`,
        false,
      );

    const id = newId();
    const topic = this.config.runsTopic;
    const inserted = (
      await insertPending(this.sql, [{ id, workflowId, input: childInput, idempotencyKey, now: new Date(), parentRunId }], topic)
    ).get(id);
    if (inserted) {
      const outbox = inserted.outbox;
      if (outbox && (await this.publisher.publish({ topic, key: id, value: outbox.message })) === "published")
        // A failed delete leaves the row to the relay: the run is published twice, which is harmless.
        await this.sql`DELETE FROM outbox WHERE id = ${outbox.id}::bigint`.catch(() => {});
      return id;
    }

    const earlier = await runByIdempotencyKey(this.sql, idempotencyKey);
    if (earlier) {
      if (earlier.parent_run_id !== parentRunId)
        throw new StepFailure(`idempotency key ${idempotencyKey} belongs to run ${earlier.id}, not a child of this run`, false);
      return earlier.id;
    }
    // Not written: the workflow is gone, or this run no longer runs (a cancel came first).
    const [why] = await this.sql<{ workflow: boolean; parent: RunStatus | null }[]>`
      SELECT EXISTS (SELECT 1 FROM workflows WHERE id = ${workflowId}::uuid) AS workflow,
             (SELECT status FROM runs WHERE id = ${parentRunId}::uuid) AS parent`;
    if (why && !why.workflow) throw new StepFailure(`workflow ${workflowId} does not exist`, false);
    throw new StepFailure(`run ${parentRunId} is ${why?.parent ?? "gone"}: no child run is started`, false);
  }

  /** A child of this run as its parent's step sees it; undefined for any other run. */
  async childRun(parentRunId: string, id: string): Promise<ChildRun | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.sql<ChildRun[]>`
      SELECT status, output, error FROM runs WHERE id = ${id}::uuid AND parent_run_id = ${parentRunId}::uuid`;
    return row && { status: row.status, output: row.output ?? null, error: row.error };
  }
}
