import { hasUuidShape } from "../ids.ts";

export const RUN_STATUSES = ["pending", "running", "completed", "failed", "cancelled"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const TERMINAL: ReadonlySet<RunStatus> = new Set(["completed", "failed", "cancelled"]);

export const STEP_STATUSES = ["pending", "running", "waiting", "completed", "failed", "skipped", "cancelled"] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** What a `waiting` step (or item) waits for: its due time, a signal, a child run, or a retry's backoff. */
export interface StepWait {
  until?: string;
  signal?: string;
  child_run_id?: string;
  retry?: boolean;
}

/** One item of a `for_each` step. */
export interface ItemResult {
  status: StepStatus;
  attempts: number;
  output?: unknown;
  error?: string;
  wait?: StepWait;
}

export interface StepResult {
  name: string;
  status: StepStatus;
  attempts: number;
  started_at: string | null;
  finished_at: string | null;
  output?: unknown;
  error?: string;
  /** A `for_each` step's items while it runs, or once it failed: a resumed run redoes only the unfinished ones. */
  items?: ItemResult[];
  wait?: StepWait;
  /** Copied from the run this one replays: the step did not execute in this run (see planReplay). */
  reused?: boolean;
}

/** A run as the API shows it. */
export interface Run {
  id: string;
  workflow_id: string;
  workflow_version: number;
  /** The run whose `workflow` step started this one; null for a run triggered otherwise. */
  parent_run_id: string | null;
  /** The schedule whose tick started this run; null for a run started otherwise. */
  schedule_id: string | null;
  /** The run this one replays (POST /runs/{id}/replay); null for a run started otherwise. */
  replay_of: string | null;
  status: RunStatus;
  input: unknown;
  output: unknown;
  error: string | null;
  steps: StepResult[];
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

/** A run as stored: timestamps as the driver returns them, plus what the API does not show. */
export interface RunRow extends Omit<Run, "created_at" | "started_at" | "finished_at"> {
  idempotency_key: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export const toRun = (r: RunRow): Run => ({
  id: r.id,
  workflow_id: r.workflow_id,
  workflow_version: r.workflow_version,
  parent_run_id: r.parent_run_id,
  schedule_id: r.schedule_id,
  replay_of: r.replay_of,
  status: r.status,
  input: r.input,
  output: r.output ?? null,
  error: r.error,
  steps: r.steps,
  created_at: r.created_at.toISOString(),
  started_at: iso(r.started_at),
  finished_at: iso(r.finished_at),
});

/** The Kafka message that asks a worker to execute a run. */
export interface RunMessage {
  run_id: string;
  workflow_id: string;
  workflow_version: number;
}

export const encodeRunMessage = (m: RunMessage): string =>
  JSON.stringify({ run_id: m.run_id, workflow_id: m.workflow_id, workflow_version: m.workflow_version });

/** Parses a runs-topic message; a string saying what is wrong when it is not one. */
export function decodeRunMessage(raw: string | undefined): RunMessage | string {
  if (raw === undefined) return "message has no value";
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return "message value is not JSON";
  }
  if (v === null || typeof v !== "object") return "message value is not an object";
  const m = v as Record<string, unknown>;
  if (typeof m.run_id !== "string" || !hasUuidShape(m.run_id)) return "run_id is missing or not a UUID";
  if (typeof m.workflow_id !== "string" || !hasUuidShape(m.workflow_id)) return "workflow_id is missing or not a UUID";
  if (!Number.isInteger(m.workflow_version)) return "workflow_version is missing or not an integer";
  return { run_id: m.run_id, workflow_id: m.workflow_id, workflow_version: m.workflow_version as number };
}
