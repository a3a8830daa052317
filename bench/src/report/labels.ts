/** How the report names targets, flow steps and error classes. */
import type { FlowStep, Target } from "../results.ts";

export const STEP_LABEL: Record<FlowStep, string> = {
  health: "GET /health",
  root: "GET /",
  create_workflow: "POST /api/v1/workflows",
  get_workflow: "GET /api/v1/workflows/{id}",
  trigger: "POST /api/v1/trigger",
  get_run: "GET /api/v1/runs/{id}",
  list_runs: "GET /api/v1/runs",
};

export const TARGET_LABEL: Record<Target, string> = { bun: "Bun", node: "Node" };
export const TARGETS: Target[] = ["bun", "node"];

const ERROR_LABEL: Record<string, string> = {
  timeout: "timeout",
  connection_refused: "connection refused",
  connection_reset: "connection reset / server disconnected",
  other: "other client-side error",
};
export const errorLabel = (cls: string): string => ERROR_LABEL[cls] ?? (cls.startsWith("http_") ? `HTTP ${cls.slice(5)}` : cls);
