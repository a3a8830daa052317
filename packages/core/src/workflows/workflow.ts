import type { StepSpec } from "./definition.ts";

/** A workflow as the API shows it. */
export interface Workflow {
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
  version: number;
  created_at: Date;
  updated_at: Date;
}

export const toWorkflow = (r: WorkflowRow): Workflow => ({
  id: r.id,
  name: r.name,
  description: r.description,
  steps: r.steps,
  version: r.version,
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
});
