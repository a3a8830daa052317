import type { RunRow, RunStatus, StepResult } from "@wf/core/runs";
import type { StepSpec } from "@wf/core/workflows";
import type { Sql } from "@wf/platform/sql";
import { pgArray, StatementBatcher } from "@wf/platform/sql";
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
}

export type ClaimRefusal =
  | { why: "missing" }
  | { why: "finished"; status: RunStatus }
  | { why: "leased"; owner: string; expiresInMs: number }
  /** Parked: nobody holds it until the timer wakes it (this message came before that, or twice). */
  | { why: "parked" };

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
  ) {}

  private lease() {
    return this.sql`now() + make_interval(secs => ${this.leaseMs / 1000})`;
  }

  /** Takes a pending run, or a running one whose lease expired (its worker died). */
  async claim(id: string): Promise<ClaimedRun | ClaimRefusal> {
    const row = await this.claims.submit(id.toLowerCase());
    if (row) return row;
    const [cur] = await this.sql<{ status: RunStatus; lease_owner: string | null; ms: number | null }[]>`
      SELECT status, lease_owner, (extract(epoch FROM lease_expires_at - now()) * 1000)::int AS ms
      FROM runs WHERE id = ${id}::uuid`;
    if (!cur) return { why: "missing" };
    if (cur.status === "running" && cur.lease_owner === null && cur.ms === null) return { why: "parked" };
    if (cur.status === "running") return { why: "leased", owner: cur.lease_owner ?? "", expiresInMs: Math.max(0, cur.ms ?? 0) };
    return { why: "finished", status: cur.status };
  }

  private async claimMany(ids: readonly string[]): Promise<(ClaimedRun | undefined)[]> {
    const rows = await this.sql<ClaimedRun[]>`
      UPDATE runs SET status = 'running', started_at = COALESCE(started_at, now()), updated_at = now(),
             lease_owner = ${this.owner}, lease_expires_at = ${this.lease()}, executions = executions + 1, wake_at = NULL
      WHERE id = ANY(${pgArray(ids)}::uuid[]) AND (status = 'pending' OR (status = 'running' AND lease_expires_at < now()))
      RETURNING id, workflow_id, definition, input, steps, executions`;
    const claimed = new Map(rows.map((r) => [r.id, r]));
    // A run asked for twice in one batch (its message delivered twice) is claimed by the first ask only.
    return ids.map((id) => {
      const row = claimed.get(id);
      claimed.delete(id);
      return row;
    });
  }

  /** Records progress and renews the lease; false when the run is no longer ours to run. */
  async checkpoint(id: string, steps: StepResult[]): Promise<boolean> {
    const rows = await this.sql`
      UPDATE runs SET steps = ${this.sql.json(steps as never)}, updated_at = now(), lease_expires_at = ${this.lease()}
      WHERE id = ${id}::uuid AND status = 'running' AND lease_owner = ${this.owner}
      RETURNING 1`;
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
    // primary key whatever the planner guesses of the batch.
    const rows = await this.sql<RunRow[]>`
      WITH done AS (
        UPDATE runs SET status = b.status, steps = b.steps, output = COALESCE(b.output, 'null'::jsonb), error = b.error,
               finished_at = now(), updated_at = now(), lease_owner = NULL, lease_expires_at = NULL, wake_at = NULL
        FROM jsonb_to_recordset(${this.sql.json(items as never)}::jsonb)
          AS b(id uuid, status text, steps jsonb, output jsonb, error text)
        WHERE runs.id = b.id AND runs.status = 'running' AND runs.lease_owner = ${this.owner}
        RETURNING ${this.sql.unsafe(RETURNED_RUN)}
      ), woken AS (
        UPDATE runs SET wake_at = LEAST(wake_at, now())
        WHERE id = ANY(ARRAY(SELECT parent_run_id FROM done WHERE parent_run_id IS NOT NULL))
          AND status = 'running' AND id <> ALL(ARRAY(SELECT id FROM done))
      )
      SELECT * FROM done`;
    const done = new Map(rows.map((r) => [r.id, r]));
    return items.map((f) => done.get(f.id));
  }

  /**
   * Parks a run this worker owns: no lease owner and no lease expiry, so nobody holds it, with its
   * wake-up time. A wake-up asked for while it ran (a signal came) is kept if it is earlier. False
   * when the run was cancelled or taken over first.
   */
  async park(id: string, steps: StepResult[], wakeAt: Date | null): Promise<boolean> {
    const rows = await this.sql`
      UPDATE runs SET steps = ${this.sql.json(steps as never)}, updated_at = now(), lease_owner = NULL, lease_expires_at = NULL,
             wake_at = CASE WHEN wake_at IS NULL THEN ${wakeAt}::timestamptz
                            WHEN ${wakeAt}::timestamptz IS NULL THEN wake_at
                            ELSE LEAST(wake_at, ${wakeAt}::timestamptz) END
      WHERE id = ${id}::uuid AND status = 'running' AND lease_owner = ${this.owner}
      RETURNING 1`;
    return rows.length > 0;
  }

  /** After a cancel: keeps the step results of the part that ran, for the record. */
  async recordCancelled(id: string, steps: StepResult[]): Promise<void> {
    await this.sql`
      UPDATE runs SET steps = ${this.sql.json(steps as never)}, updated_at = now(), lease_owner = NULL, lease_expires_at = NULL
      WHERE id = ${id}::uuid AND status = 'cancelled'`;
  }

  /** Hands a run back (shutdown): progress kept, lease expired at once so the next owner resumes it. */
  async release(id: string, steps: StepResult[]): Promise<void> {
    await this.sql`
      UPDATE runs SET steps = ${this.sql.json(steps as never)}, updated_at = now(), lease_expires_at = now() - interval '1 millisecond'
      WHERE id = ${id}::uuid AND status = 'running' AND lease_owner = ${this.owner}`;
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
