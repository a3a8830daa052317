/** How a replay is written: a new pending run of the original's pinned definition, through the trigger's path (run + outbox row). */
import { isReplayPlan, planReplay } from "@wf/core/engine";
import type { FieldError } from "@wf/core/errors";
import { newId } from "@wf/core/ids";
import type { RunStatus, StepResult } from "@wf/core/runs";
import { compileKey, type KeyPart, type StepSpec } from "@wf/core/workflows";
import { pgArray, type Sql } from "@wf/platform/sql";
import { concurrencyKey, type InsertedRow, type InsertedRun, insertedRuns, withOutbox } from "./pending.ts";
import { RUN_COLUMNS } from "./stored.ts";

/** What a replay reads of its original run. */
export interface ReplayOriginal {
  id: string;
  status: RunStatus;
  definition: StepSpec[];
  steps: StepResult[];
  concurrency_limit: number | null;
  /** false once its workflow was deleted: a deleted workflow starts no run, replays included. */
  workflow_exists: boolean;
  /** The key template of the pinned version's concurrency limit (null: none, or the version is gone with its workflow). */
  key_template: string | null;
}

export interface NewReplay {
  id: string;
  replayOf: string;
  /** Absent: the original's input. */
  input?: unknown;
  /** The steps reused from the original (see planReplay). */
  steps: StepResult[];
  /** The pinned key template compiled, for a new input of a limited run; absent: the original's key value. */
  keyParts?: KeyPart[];
  now: Date;
  headers?: Record<string, string>;
}

/** The runs of `ids` that exist, with what a replay needs of each; ids must be UUIDs. */
export async function replayOriginals(sql: Sql, ids: readonly string[]): Promise<ReplayOriginal[]> {
  if (ids.length === 0) return [];
  return sql<ReplayOriginal[]>`
    SELECT o.id, o.status, o.definition, o.steps, o.concurrency_limit, v.concurrency->>'key' AS key_template,
           EXISTS (SELECT 1 FROM workflows w WHERE w.id = o.workflow_id) AS workflow_exists
    FROM runs o LEFT JOIN workflow_versions v ON v.workflow_id = o.workflow_id AND v.version = o.workflow_version
    WHERE o.id = ANY(${pgArray(ids)}::uuid[])`;
}

/**
 * Stores replays and their outbox messages in one statement, as insertPending stores triggers:
 * each copies its original's workflow, pinned version and definition, concurrency limit (the
 * original's key value, or the key computed over a new input) and timeout, and starts with the
 * reused steps. Only an original that is finished, of a workflow that still exists, is replayed: a
 * replay missing from the answer had an original that is not (as a trigger, it may race a delete
 * of the workflow committing at the same moment).
 */
export async function insertReplays(sql: Sql, replays: readonly NewReplay[], topic: string): Promise<Map<string, InsertedRun>> {
  if (replays.length === 0) return new Map();
  const batch = replays.map((r, ord) => ({
    id: r.id,
    replay_of: r.replayOf,
    input: r.input ?? null,
    has_input: r.input !== undefined,
    steps: r.steps,
    key_parts: r.keyParts ?? null,
    created_at: r.now.toISOString(),
    headers: r.headers ?? null,
    ord,
  }));
  const rows = await sql<InsertedRow[]>`
    WITH req AS (
      SELECT * FROM jsonb_to_recordset(${sql.json(batch as never)}::jsonb)
        AS r(id uuid, replay_of uuid, input jsonb, has_input boolean, steps jsonb, key_parts jsonb, created_at timestamptz, headers jsonb, ord int)
    ), ins AS (
      INSERT INTO runs (id, workflow_id, workflow_version, definition, status, input, steps, created_at, updated_at, topic, replay_of,
                        concurrency_limit, concurrency_key, timeout_ms)
      SELECT r.id, o.workflow_id, o.workflow_version, o.definition, 'pending', CASE WHEN r.has_input THEN r.input ELSE o.input END,
             r.steps, r.created_at, r.created_at, ${topic}, o.id,
             o.concurrency_limit,
             CASE WHEN o.concurrency_limit IS NULL THEN NULL
                  WHEN r.key_parts IS NULL THEN o.concurrency_key
                  ELSE ${sql.unsafe(concurrencyKey("r.key_parts", "r.input"))} END,
             o.timeout_ms
      FROM req r JOIN runs o ON o.id = r.replay_of
      WHERE o.status IN ('completed', 'failed', 'cancelled')
        AND EXISTS (SELECT 1 FROM workflows w WHERE w.id = o.workflow_id)
      ORDER BY r.ord
      RETURNING ${sql.unsafe(RUN_COLUMNS)}
    ), ${withOutbox(sql, topic, sql``)}`;
  return insertedRuns(rows);
}

export interface ReplayOptions {
  /** The step to start from; absent: the original's steps that did not complete (see planReplay). */
  from_step?: string;
  /** The replay's input; absent: the original's. */
  input?: Record<string, unknown>;
}

/** The replay of a finished original, or the problem with `from_step`. */
export function replayFor(o: ReplayOriginal, opts: ReplayOptions, now: Date, headers?: Record<string, string>): NewReplay | FieldError {
  const plan = planReplay(o.definition, o.steps, opts.from_step);
  if (!isReplayPlan(plan)) return plan;
  // A new input may name another key: computed with the pinned version's template. Without a
  // template (a limit without key, or the version deleted with its workflow) the original's key stays.
  const rekey = opts.input !== undefined && o.concurrency_limit !== null && o.key_template !== null;
  return {
    id: newId(),
    replayOf: o.id,
    steps: plan.steps,
    now,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    ...(rekey ? { keyParts: compileKey(o.key_template!) } : {}),
    ...(headers ? { headers } : {}),
  };
}
