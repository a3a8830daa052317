import { RUN_STATUSES, type TriggerLimits, validateTrigger } from "@wf/core/runs";
import { type DefinitionLimits, validateDefinition } from "@wf/core/workflows";
import type { Sql } from "@wf/platform/sql";

/** What the fuzz run did that left rows behind, as its answers told it. */
export interface FuzzLedger {
  /** The fuzz run's own prefix of workflow names and idempotency keys. */
  tag: string;
  since: Date;
  /** Workflows answered 201 (the fixtures' included). */
  created: Set<string>;
  /** Workflows answered 204 to a DELETE. */
  deleted: Set<string>;
  /** Runs answered 202. */
  runs: Set<string>;
  /** Every well-formed workflow_id the fuzz sent to /trigger, real or not. */
  triggeredFor: Set<string>;
}

interface WorkflowRow {
  id: string;
  name: string;
  description: string | null;
  steps: unknown;
  version: number;
}
interface RunRow {
  id: string;
  workflow_id: string;
  workflow_version: number;
  status: string;
  definition: unknown;
  input: unknown;
  idempotency_key: string | null;
}

const ids = (s: Set<string>) => `{${[...s].join(",")}}`;

/**
 * The rows the fuzz run could have written, checked against the domain's own rules: every
 * workflow it was told about or that carries its tag holds a valid definition; every run that
 * was answered 202, or that belongs to any workflow id it triggered, exists for a workflow it
 * created, has a known status, a valid copied definition and an acceptable input.
 */
export async function auditRows(sql: Sql, l: FuzzLedger, def: DefinitionLimits, trig: TriggerLimits): Promise<string[]> {
  const problems: string[] = [];
  const workflows = await sql<WorkflowRow[]>`
    SELECT id, name, description, steps, version FROM workflows
    WHERE id = ANY(${ids(l.created)}::uuid[]) OR (name LIKE ${`${l.tag}%`} AND created_at >= ${l.since})`;
  const found = new Set(workflows.map((w) => w.id));
  for (const id of l.created) if (!found.has(id) && !l.deleted.has(id)) problems.push(`workflow ${id} was answered 201 but is not stored`);
  for (const w of workflows) {
    if (!l.created.has(w.id))
      problems.push(`workflow ${w.id} (${JSON.stringify(w.name.slice(0, 60))}) is stored but was never answered 201`);
    const errs = validateDefinition({ name: w.name, description: w.description, steps: w.steps }, def);
    if (errs.length > 0) problems.push(`workflow ${w.id} holds an invalid definition: ${JSON.stringify(errs.slice(0, 3))}`);
    if (!Number.isInteger(w.version) || w.version < 1) problems.push(`workflow ${w.id} has version ${w.version}`);
  }

  const runs = await sql<RunRow[]>`
    SELECT id, workflow_id, workflow_version, status, definition, input, idempotency_key FROM runs
    WHERE id = ANY(${ids(l.runs)}::uuid[]) OR workflow_id = ANY(${ids(l.triggeredFor)}::uuid[])`;
  const versions = new Map(workflows.map((w) => [w.id, w.version]));
  const stored = new Set(runs.map((r) => r.id));
  for (const id of l.runs) if (!stored.has(id)) problems.push(`run ${id} was answered 202 but is not stored`);
  for (const r of runs) {
    if (!l.created.has(r.workflow_id)) problems.push(`run ${r.id} references workflow ${r.workflow_id}, which was never created`);
    if (!(RUN_STATUSES as readonly string[]).includes(r.status)) problems.push(`run ${r.id} has status ${JSON.stringify(r.status)}`);
    const current = versions.get(r.workflow_id);
    if (r.workflow_version < 1 || (current !== undefined && r.workflow_version > current))
      problems.push(`run ${r.id} has workflow_version ${r.workflow_version} (workflow is at ${current})`);
    // The copied steps were valid when copied; only their count and shape matter here.
    const defErrs = validateDefinition({ name: "copied", steps: r.definition }, def);
    if (defErrs.length > 0) problems.push(`run ${r.id} holds an invalid definition: ${JSON.stringify(defErrs.slice(0, 3))}`);
    if (r.input === null || typeof r.input !== "object" || Array.isArray(r.input))
      problems.push(`run ${r.id} has input ${JSON.stringify(r.input)}`);
    const inputErrs = validateTrigger({ input: r.input, idempotency_key: r.idempotency_key ?? undefined }, trig);
    if (inputErrs.length > 0) problems.push(`run ${r.id} holds an invalid input or key: ${JSON.stringify(inputErrs.slice(0, 3))}`);
  }
  return problems;
}
