import type { RunRow, RunStatus, StepResult } from "@wf/core/runs";
import type { StepSpec } from "@wf/core/workflows";
import type { RunChanges } from "@wf/platform/changes";
import type { Sql, TxSql } from "@wf/platform/sql";
import { pgArray, StatementBatcher } from "@wf/platform/sql";
import { enqueueWebhooks, wakeSlots } from "../runs/slots.ts";
import { RUN_COLUMNS } from "../runs/stored.ts";

// Qualified: the terminal write joins a recordset whose columns share the runs' names.
const RETURNED_RUN = RUN_COLUMNS.split(", ")
  .map((c) => `runs.${c}`)
  .join(", ");

export interface ClaimedRun {
  id: string;
  workflow_id: string;
  definition: StepSpec[];
  input: unknown;
  steps: StepResult[];
  executions: number;
  /** The workflow's timeout_ms pinned on the run; null: none. */
  timeout_ms: number | null;
  /** What is left of it, from the run's start (negative once over); null: no timeout. */
  timeout_left_ms: number | null;
}

export type ClaimRefusal =
  | { why: "missing" }
  | { why: "finished"; status: RunStatus }
  | { why: "leased"; owner: string; expiresInMs: number }
  /** Parked: nobody holds it until the timer wakes it (this message came before that, or twice). */
  | { why: "parked" }
  /** Pending until its wake_at (run_at, delay_ms): the timer publishes it then. */
  | { why: "scheduled" }
  /** Of a workflow with a concurrency limit: no slot of its key is free, or no run of the key is due to start. */
  | { why: "waiting_for_slot" };

/** Seed of the advisory-lock keys of concurrency keys (hashtextextended), apart from other advisory locks. */
const SLOT_LOCK_SEED = 727_011;

/**
 * Wakes (wake_at = now(), for the timer to publish) the oldest pending run of a concurrency key that
 * nothing woke yet, if a slot of the key is still free: its message is one more token for the key
 * (see ExecutionStore.claim). Run under the key's advisory lock.
 */
const wakeNext = (sql: TxSql, workflowId: string, key: string) => sql`
  UPDATE runs SET wake_at = now(), updated_at = now()
  WHERE id = (SELECT id FROM runs
              WHERE workflow_id = ${workflowId}::uuid AND concurrency_key = ${key} AND status = 'pending' AND wake_at IS NULL
              ORDER BY created_at, id LIMIT 1)
    AND status = 'pending' AND wake_at IS NULL
    AND (SELECT count(*) FROM runs r WHERE r.workflow_id = ${workflowId}::uuid AND r.concurrency_key = ${key} AND r.status = 'running')
        < concurrency_limit`;

/** What a claim returns of a run. */
const claimed = (table: string) => `${table}id, ${table}workflow_id, ${table}definition, ${table}input, ${table}steps, ${table}executions,
  ${table}timeout_ms, (${table}timeout_ms - extract(epoch FROM clock_timestamp() - ${table}started_at) * 1000)::float8 AS timeout_left_ms`;
const CLAIMED = claimed("");
const CLAIMED_QUALIFIED = claimed("runs.");

interface Finish {
  id: string;
  status: "completed" | "failed";
  steps: StepResult[];
  output: unknown;
  error: string | null;
}

/**
 * The run state machine as compare-and-set updates: pending → running (claim, with a lease) →
 * completed | failed, or cancelled by the API at any point before that. Every write checks the
 * state it expects and the lease owner, so a run reaches exactly one terminal state whatever is
 * redelivered, restarted or killed on the way.
 */
export class ExecutionStore {
  /**
   * The claims and the terminal writes of the runs a worker executes at once share statements
   * (see StatementBatcher): one statement and one commit per run for each was most of what
   * PostgreSQL did under load.
   */
  private readonly claims = new StatementBatcher<string, ClaimedRun | undefined>((ids) => this.claimMany(ids));
  private readonly finishes = new StatementBatcher<Finish, RunRow | undefined>((items) => this.finishMany(items));

  constructor(
    private readonly sql: Sql,
    private readonly owner: string,
    private readonly leaseMs: number,
    /** Told of every run whose state a write of this store changed, once the write committed (event streams). */
    private readonly changes?: RunChanges,
  ) {}

  private changed(ids: string[]): void {
    if (ids.length > 0) this.changes?.changed(...ids);
  }

  private lease() {
    return this.sql`now() + make_interval(secs => ${this.leaseMs / 1000})`;
  }

  /**
   * Takes a pending run that is due, or a running one whose lease expired (its worker died). A
   * refused run holds nothing.
   *
   * A message about a run of a workflow with a concurrency limit is a token for the run's key: it
   * starts the oldest due pending run of the key if a slot is free (claimNext), whichever run that
   * is, so the key's runs start in trigger order however late each one's own message comes (a
   * partition held up behind a long run, a message lost), and a second message is never waited on.
   */
  async claim(id: string): Promise<ClaimedRun | ClaimRefusal> {
    const row = await this.claims.submit(id.toLowerCase());
    if (row) return row;
    const [cur] = await this.sql<
      {
        status: RunStatus;
        lease_owner: string | null;
        ms: number | null;
        scheduled: boolean;
        workflow_id: string;
        concurrency_key: string | null;
        startable: boolean | null;
      }[]
    >`
      SELECT status, lease_owner, (extract(epoch FROM lease_expires_at - now()) * 1000)::int AS ms,
             COALESCE(wake_at > now(), false) AS scheduled, workflow_id, concurrency_key,
             CASE WHEN concurrency_key IS NOT NULL THEN
               (SELECT count(*) FROM runs o
                WHERE o.workflow_id = runs.workflow_id AND o.concurrency_key = runs.concurrency_key AND o.status = 'running')
               < (SELECT p.concurrency_limit FROM runs p
                  WHERE p.workflow_id = runs.workflow_id AND p.concurrency_key = runs.concurrency_key AND p.status = 'pending'
                    AND (p.wake_at IS NULL OR p.wake_at <= now())
                  ORDER BY p.created_at, p.id LIMIT 1) END AS startable
      FROM runs WHERE id = ${id}::uuid`;
    if (!cur) return { why: "missing" };
    const scheduled = cur.status === "pending" && cur.scheduled;
    if (cur.concurrency_key !== null && !scheduled) {
      // Nothing to start, or every slot taken, seen without the lock: refusing on a snapshot a
      // moment old is as safe as the message coming a moment earlier (the end of a running run
      // wakes the next one whatever this says), and runs triggered together do not all queue on
      // the key's lock.
      if (!cur.startable) return { why: "waiting_for_slot" };
      return this.claimNext(cur.workflow_id, cur.concurrency_key);
    }
    if (cur.status === "running" && cur.lease_owner === null && cur.ms === null) return { why: "parked" };
    if (cur.status === "running") return { why: "leased", owner: cur.lease_owner ?? "", expiresInMs: Math.max(0, cur.ms ?? 0) };
    // Not due yet (a message came early or twice), or due a moment after the batch looked: either
    // way it keeps its wake_at, and the timer publishes it.
    if (cur.status === "pending") return { why: "scheduled" };
    return { why: "finished", status: cur.status };
  }

  /**
   * The claim of the runs that need no concurrency slot, as one statement for the batch: pending
   * ones of unlimited workflows that are due, and running ones whose lease expired (a limited one
   * keeps the slot it holds).
   */
  private async claimMany(ids: readonly string[]): Promise<(ClaimedRun | undefined)[]> {
    const rows = await this.sql<ClaimedRun[]>`
      UPDATE runs SET status = 'running', started_at = COALESCE(started_at, now()), updated_at = now(),
             lease_owner = ${this.owner}, lease_expires_at = ${this.lease()}, executions = executions + 1, wake_at = NULL
      WHERE id = ANY(${pgArray(ids)}::uuid[])
        AND ((status = 'pending' AND concurrency_limit IS NULL AND (wake_at IS NULL OR wake_at <= now()))
          OR (status = 'running' AND lease_expires_at < now()))
      RETURNING ${this.sql.unsafe(CLAIMED)}`;
    const claimed = new Map(rows.map((r) => [r.id, r]));
    this.changed(rows.map((r) => r.id));
    // A run asked for twice in one batch (its message delivered twice) is claimed by the first ask only.
    return ids.map((id) => {
      const row = claimed.get(id);
      claimed.delete(id);
      return row;
    });
  }

  /**
   * Starts the oldest due pending run of a concurrency key if fewer than its limit of the key's
   * runs are running (parked ones included), one claim at a time per key (an advisory lock on the
   * key, for this transaction), so the key's runs start in trigger order; `started_at` from the
   * clock, not the transaction's start, so that order shows. A claim that leaves a slot free wakes
   * the next run (wakeNext): two slots freed at once wake one run, whose claim wakes the next.
   */
  private async claimNext(workflowId: string, key: string): Promise<ClaimedRun | ClaimRefusal> {
    const claimed = await this.sql.begin(async (tx): Promise<ClaimedRun | ClaimRefusal> => {
      await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`${workflowId}/${key}`}, ${SLOT_LOCK_SEED}))`;
      const [row] = await tx<ClaimedRun[]>`
        WITH next AS (
          SELECT id FROM runs
          -- Not now(): the transaction began before the lock was granted, and a run woken since
          -- (wake_at = its waker's now()) is due all the same.
          WHERE workflow_id = ${workflowId}::uuid AND concurrency_key = ${key} AND status = 'pending'
            AND (wake_at IS NULL OR wake_at <= statement_timestamp())
          ORDER BY created_at, id LIMIT 1
        )
        UPDATE runs SET status = 'running', started_at = COALESCE(started_at, clock_timestamp()), updated_at = now(),
               lease_owner = ${this.owner}, lease_expires_at = ${this.lease()}, executions = executions + 1, wake_at = NULL
        FROM next
        WHERE runs.id = next.id AND runs.status = 'pending'
          AND (SELECT count(*) FROM runs o
               WHERE o.workflow_id = ${workflowId}::uuid AND o.concurrency_key = ${key} AND o.status = 'running')
              < runs.concurrency_limit
        RETURNING ${tx.unsafe(CLAIMED_QUALIFIED)}`;
      if (!row) return { why: "waiting_for_slot" };
      await wakeNext(tx, workflowId, key);
      return row;
    });
    if (!("why" in claimed)) this.changed([claimed.id]);
    return claimed;
  }

  /** Records progress and renews the lease; false when the run is no longer ours to run. */
  async checkpoint(id: string, steps: StepResult[]): Promise<boolean> {
    const rows = await this.sql`
      UPDATE runs SET steps = ${this.sql.json(steps as never)}, updated_at = now(), lease_expires_at = ${this.lease()}
      WHERE id = ${id}::uuid AND status = 'running' AND lease_owner = ${this.owner}
      RETURNING 1`;
    if (rows.length > 0) this.changed([id]);
    return rows.length > 0;
  }

  /**
   * The one terminal write of a run this worker owns: the run as stored, so the caller can cache
   * it; undefined if it was cancelled or taken over first.
   */
  finish(
    id: string,
    status: "completed" | "failed",
    steps: StepResult[],
    output: unknown,
    error: string | null,
  ): Promise<RunRow | undefined> {
    return this.finishes.submit({ id: id.toLowerCase(), status, steps, output: output ?? null, error });
  }

  private async finishMany(items: readonly Finish[]): Promise<(RunRow | undefined)[]> {
    // A JSON null becomes SQL NULL in jsonb_to_recordset: an output of null is stored as jsonb null.
    // A finished child wakes its parent if that still runs (parked: the timer resumes it; leased:
    // its park keeps the wake-up). Parents finished in this same batch are left alone: one
    // statement must not write a row twice. Arrays (InitPlans), so the parents are reached by
    // primary key whatever the planner guesses of the batch. A limited run's end wakes the next
    // run of its key (wakeSlots: pending runs, never a row this statement finishes or a parent), and
    // its webhook deliveries are enqueued (enqueueWebhooks).
    const rows = await this.sql<RunRow[]>`
      WITH done AS (
        UPDATE runs SET status = b.status, steps = b.steps, output = COALESCE(b.output, 'null'::jsonb), error = b.error,
               finished_at = now(), updated_at = now(), lease_owner = NULL, lease_expires_at = NULL, wake_at = NULL
        FROM jsonb_to_recordset(${this.sql.json(items as never)}::jsonb)
          AS b(id uuid, status text, steps jsonb, output jsonb, error text)
        WHERE runs.id = b.id AND runs.status = 'running' AND runs.lease_owner = ${this.owner}
        RETURNING ${this.sql.unsafe(RETURNED_RUN)}, runs.concurrency_key
      ), woken AS (
        UPDATE runs SET wake_at = LEAST(wake_at, now())
        WHERE id = ANY(ARRAY(SELECT parent_run_id FROM done WHERE parent_run_id IS NOT NULL))
          AND status = 'running' AND id <> ALL(ARRAY(SELECT id FROM done))
      ), slots AS (
        ${wakeSlots(this.sql, "done")}
      ), hooks AS (
        ${enqueueWebhooks(this.sql, "done")}
      )
      SELECT ${this.sql.unsafe(RUN_COLUMNS)} FROM done`;
    const done = new Map(rows.map((r) => [r.id, r]));
    this.changed(rows.map((r) => r.id));
    return items.map((f) => done.get(f.id));
  }

  /**
   * Parks a run this worker owns: no lease owner and no lease expiry, so nobody holds it, with its
   * wake-up time. A wake-up asked for while it ran (a signal came) is kept if it is earlier, and so
   * is the end of its workflow's timeout, when the run is woken to be failed. False when the run was
   * cancelled or taken over first.
   */
  async park(id: string, steps: StepResult[], wakeAt: Date | null): Promise<boolean> {
    // LEAST ignores NULLs: no wake-up and no timeout leave wake_at NULL (an event wakes the run).
    const rows = await this.sql`
      UPDATE runs SET steps = ${this.sql.json(steps as never)}, updated_at = now(), lease_owner = NULL, lease_expires_at = NULL,
             wake_at = LEAST(wake_at, ${wakeAt}::timestamptz, started_at + timeout_ms * interval '1 millisecond')
      WHERE id = ${id}::uuid AND status = 'running' AND lease_owner = ${this.owner}
      RETURNING 1`;
    if (rows.length > 0) this.changed([id]);
    return rows.length > 0;
  }

  /** After a cancel: keeps the step results of the part that ran, for the record. */
  async recordCancelled(id: string, steps: StepResult[]): Promise<void> {
    await this.sql`
      UPDATE runs SET steps = ${this.sql.json(steps as never)}, updated_at = now(), lease_owner = NULL, lease_expires_at = NULL
      WHERE id = ${id}::uuid AND status = 'cancelled'`;
    this.changed([id]);
  }

  /** Hands a run back (shutdown): progress kept, lease expired at once so the next owner resumes it. */
  async release(id: string, steps: StepResult[]): Promise<void> {
    await this.sql`
      UPDATE runs SET steps = ${this.sql.json(steps as never)}, updated_at = now(), lease_expires_at = now() - interval '1 millisecond'
      WHERE id = ${id}::uuid AND status = 'running' AND lease_owner = ${this.owner}`;
    this.changed([id]);
  }

  /**
   * Checks on the runs this worker is executing: which were cancelled, which it no longer owns
   * (its lease lapsed and another worker claimed the run). Renews the leases of the rest when asked.
   */
  async poll(ids: string[], renew: boolean): Promise<{ cancelled: string[]; lost: string[] }> {
    if (ids.length === 0) return { cancelled: [], lost: [] };
    // SKIP LOCKED: a renewal never waits, so it can never deadlock. Renewing the whole batch while
    // this worker's batched terminal write locked the same rows in another order did (19 times in
    // a day of bench runs): both statements held a PgBouncer server connection for the 1 s deadlock
    // timeout, and a failed terminal batch was retried run by run. A run locked right now is being
    // finished, cancelled or taken over, and needs no renewal.
    if (renew)
      await this.sql`
        UPDATE runs SET lease_expires_at = ${this.lease()}
        WHERE id IN (SELECT id FROM runs WHERE id = ANY(${pgArray(ids)}::uuid[]) AND status = 'running' AND lease_owner = ${this.owner}
                     FOR UPDATE SKIP LOCKED)`;
    const rows = await this.sql<{ id: string; status: RunStatus; lease_owner: string | null }[]>`
      SELECT id, status, lease_owner FROM runs WHERE id = ANY(${pgArray(ids)}::uuid[])`;
    const cancelled: string[] = [];
    const lost: string[] = [];
    for (const r of rows) {
      if (r.status === "cancelled") cancelled.push(r.id);
      else if (r.status !== "running" || r.lease_owner !== this.owner) lost.push(r.id);
    }
    return { cancelled, lost };
  }
}
