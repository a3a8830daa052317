import type { StepSpec } from "./definition.ts";
import type { Concurrency, FlowControl } from "./flow-control.ts";

/** A workflow as the API shows it; `concurrency` and `timeout_ms` only when set. */
export interface Workflow extends FlowControl {
  id: string;
  name: string;
  description: string | null;
  steps: StepSpec[];
  version: number;
  created_at: string;
  updated_at: string;
}

export interface WorkflowRow {
  id: string;
  name: string;
  description: string | null;
  steps: StepSpec[];
  concurrency: Concurrency | null;
  timeout_ms: number | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/** The flow-control fields of a stored definition, as shown: absent when not set. */
export const shownFlowControl = (r: { concurrency: Concurrency | null; timeout_ms: number | null }): FlowControl => ({
  ...(r.concurrency ? { concurrency: r.concurrency } : {}),
  ...(r.timeout_ms !== null ? { timeout_ms: r.timeout_ms } : {}),
});

export const toWorkflow = (r: WorkflowRow): Workflow => ({
  id: r.id,
  name: r.name,
  description: r.description,
  steps: r.steps,
  ...shownFlowControl(r),
  version: r.version,
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
});
