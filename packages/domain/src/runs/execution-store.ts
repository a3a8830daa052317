import type { Sql } from "../sql/client.ts";
import { pgArray } from "../sql/client.ts";
import type { StepSpec } from "../workflows/definition.ts";
import type { RunStatus, StepResult } from "./run.ts";

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
  | { why: "leased"; owner: string; expiresInMs: number };

/**
 * The run state machine as compare-and-set updates: pending → running (claim, with a lease) →
 * completed | failed, or cancelled by the API at any point before that. Every write checks the
 * state it expects and the lease owner, so a run reaches exactly one terminal state whatever is
 * redelivered, restarted or killed on the way.
 */
export class ExecutionStore {
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
    const [row] = await this.sql<ClaimedRun[]>`
      UPDATE runs SET status = 'running', started_at = COALESCE(started_at, now()), updated_at = now(),
             lease_owner = ${this.owner}, lease_expires_at = ${this.lease()}, executions = executions + 1
      WHERE id = ${id}::uuid AND (status = 'pending' OR (status = 'running' AND lease_expires_at < now()))
      RETURNING id, workflow_id, definition, input, steps, executions`;
    if (row) return row;
    const [cur] = await this.sql<{ status: RunStatus; lease_owner: string | null; ms: number | null }[]>`
      SELECT status, lease_owner, (extract(epoch FROM lease_expires_at - now()) * 1000)::int AS ms
      FROM runs WHERE id = ${id}::uuid`;
    if (!cur) return { why: "missing" };
    if (cur.status === "running") return { why: "leased", owner: cur.lease_owner ?? "", expiresInMs: Math.max(0, cur.ms ?? 0) };
    return { why: "finished", status: cur.status };
  }

  /** Records progress and renews the lease; false when the run is no longer ours to run. */
  async checkpoint(id: string, steps: StepResult[]): Promise<boolean> {
    const rows = await this.sql`
      UPDATE runs SET steps = ${this.sql.json(steps as never)}, updated_at = now(), lease_expires_at = ${this.lease()}
      WHERE id = ${id}::uuid AND status = 'running' AND lease_owner = ${this.owner}
      RETURNING 1`;
    return rows.length > 0;
  }

  /** The one terminal write of a run this worker owns; false if it was cancelled or taken over first. */
  async finish(id: string, status: "completed" | "failed", steps: StepResult[], output: unknown, error: string | null): Promise<boolean> {
    const rows = await this.sql`
      UPDATE runs SET status = ${status}, steps = ${this.sql.json(steps as never)}, output = ${this.sql.json((output ?? null) as never)},
             error = ${error}, finished_at = now(), updated_at = now(), lease_owner = NULL, lease_expires_at = NULL
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
    if (renew)
      await this.sql`
        UPDATE runs SET lease_expires_at = ${this.lease()}
        WHERE id = ANY(${pgArray(ids)}::uuid[]) AND status = 'running' AND lease_owner = ${this.owner}`;
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
