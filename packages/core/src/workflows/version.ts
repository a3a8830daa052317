import type { StepSpec } from "./definition.ts";
import type { Concurrency, FlowControl } from "./flow-control.ts";
import { shownFlowControl } from "./workflow.ts";

/** One version of a workflow's definition, as written by its create or by one of its replaces. */
export interface WorkflowVersion extends FlowControl {
  workflow_id: string;
  version: number;
  name: string;
  description: string | null;
  steps: StepSpec[];
  created_at: string;
}

export interface WorkflowVersionRow {
  workflow_id: string;
  version: number;
  name: string;
  description: string | null;
  steps: StepSpec[];
  concurrency: Concurrency | null;
  timeout_ms: number | null;
  created_at: Date;
}

export const toWorkflowVersion = (r: WorkflowVersionRow): WorkflowVersion => ({
  workflow_id: r.workflow_id,
  version: r.version,
  name: r.name,
  description: r.description,
  steps: r.steps,
  ...shownFlowControl(r),
  created_at: r.created_at.toISOString(),
});

/** Versions are numbered from 1 and stored as PostgreSQL integers. */
const VERSION_TEXT = /^[1-9]\d{0,9}$/;
export const MAX_VERSION = 2_147_483_647;

/** A version number as a path spells it, or undefined when it cannot name a version. */
export function parseVersion(text: string): number | undefined {
  if (!VERSION_TEXT.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_VERSION ? n : undefined;
}
