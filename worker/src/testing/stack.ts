/**
 * What the worker's unit tests share: their config, the real PostgreSQL schema, runs stored as a
 * trigger would leave them (or as a worker would), and waiting for the real services to get there.
 * No service is faked: the tests run against the local stack (`infra/stack up`).
 */

import { newId } from "@wf/core/ids";
import type { RunStatus, StepResult } from "@wf/core/runs";
import type { StepSpec } from "@wf/core/workflows";
import { type Config, loadConfig } from "@wf/platform/config";
import { createLogger, type Logger } from "@wf/platform/observability";
import { createSql, migrate, type Sql } from "@wf/platform/sql";

/** A unique name: each test has its own topics, consumer group, lease owner and rows. */
export const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** The config from the environment (the local stack by default), with a runs topic of its own. */
export const testConfig = (overrides: Partial<Config> = {}): Config =>
  // Nothing parks unless a test asks: these tests interrupt long steps while the worker holds them.
  loadConfig(process.env, { logLevel: "warn", runsTopic: unique("runs-worker-unit"), parkAfterMs: 3_600_000, ...overrides });

/** Applies pending migrations over a direct connection, as a process does at start-up. */
export async function migrated(config: Config): Promise<void> {
  const direct = createSql(config, config.databaseDirectUrl, 1);
  try {
    await migrate(direct);
  } finally {
    await direct.end();
  }
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

/** The service's own logger, its lines kept in memory instead of written out. */
export function recordingLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { log: createLogger("debug", {}, (_level, line) => lines.push(JSON.parse(line) as LogLine)), lines };
}

export interface StoredRun {
  definition: StepSpec[];
  input?: unknown;
  status?: RunStatus;
  steps?: StepResult[];
  executions?: number;
  leaseOwner?: string;
  /** From now; negative for a lease that has lapsed. */
  leaseExpiresInMs?: number;
}

/**
 * Stores one run directly (no outbox row: no relay publishes it) under `topic`, so no other
 * worker group's reconciler adopts it. Returns its id.
 */
export async function insertRun(sql: Sql, topic: string, r: StoredRun): Promise<string> {
  const id = newId();
  const status = r.status ?? "pending";
  const finished = status === "completed" || status === "failed" || status === "cancelled";
  await sql`
    INSERT INTO runs (id, workflow_id, workflow_version, definition, status, input, steps, executions, created_at, updated_at,
                      started_at, finished_at, lease_owner, lease_expires_at, topic)
    VALUES (${id}::uuid, ${newId()}::uuid, 1, ${sql.json(r.definition as never)}, ${status}, ${sql.json((r.input ?? {}) as never)},
            ${sql.json((r.steps ?? []) as never)}, ${r.executions ?? 0}, now(), now(),
            ${status === "pending" ? null : new Date()}, ${finished ? new Date() : null},
            ${r.leaseOwner ?? null}, now() + ${r.leaseExpiresInMs ?? null}::int * interval '1 millisecond', ${topic})`;
  return id;
}

export interface RunState {
  id: string;
  status: RunStatus;
  definition: StepSpec[];
  steps: StepResult[];
  output: unknown;
  error: string | null;
  executions: number;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  /** Null without a lease. */
  lease_lapsed: boolean | null;
  /** When a parked run is to be woken. */
  wake_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
}

export async function runState(sql: Sql, id: string): Promise<RunState> {
  const [row] = await sql<RunState[]>`
    SELECT id, status, definition, steps, output, error, executions, lease_owner, lease_expires_at, wake_at, finished_at, updated_at,
           lease_expires_at <= now() AS lease_lapsed
    FROM runs WHERE id = ${id}::uuid`;
  if (!row) throw new Error(`run ${id} is not stored`);
  return row;
}

/** Deletes the runs the tests stored under these topics. */
export async function deleteRuns(sql: Sql, topics: string[]): Promise<void> {
  if (topics.length > 0) await sql`DELETE FROM runs WHERE topic = ANY(${`{${topics.join(",")}}`}::text[])`;
}
