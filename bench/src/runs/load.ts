import type { Sql } from "@wf/platform/sql";
import { parseOha } from "../oha/oha.ts";
import type { ApiClient } from "./client.ts";
import { dbMark, perRun, runTimings, waitForTerminal } from "./database.ts";
import type { LoadStep } from "./results.ts";
import type { Shape } from "./shapes.ts";

export interface LoadSpec {
  shape: Shape;
  mode: "closed" | "open";
  /** Triggers per second, open loop only. */
  rate?: number;
  concurrency: number;
  durationS: number;
  /** How long accepted runs may take to finish after oha stops before they count as lost. */
  drainS: number;
}

/** Hooks around the measured window: the caller reads the CPU there. */
export interface Window {
  begin(): void;
  /** `runs` completed in the window; `loadGeneratorS` is oha's own CPU. */
  end(runs: number, loadGeneratorS: number): LoadStep["cpu"];
}

/**
 * One load step: oha sends triggers of a fresh workflow (so its runs are this step's alone),
 * closed loop at `concurrency` or open loop at `rate` per second, for `durationS`; then every
 * accepted run is waited for and measured from the engine's own timestamps.
 */
export async function loadStep(oha: string, api: ApiClient, sql: Sql, spec: LoadSpec, window: Window): Promise<LoadStep> {
  const label = spec.mode === "open" ? `${spec.rate}/s` : `c${spec.concurrency}`;
  const workflowId = await api.createWorkflow({ ...spec.shape.definition, name: `${spec.shape.definition.name}-${spec.mode}-${label}` });
  const args = [oha, "--no-tui", "--output-format", "json", "-z", `${spec.durationS}s`, "-c", String(spec.concurrency), "-m", "POST"];
  if (spec.mode === "open") args.push("-q", String(spec.rate), "--latency-correction");
  args.push("-H", "content-type: application/json", "-d", api.triggerBody(workflowId), `${api.base}/api/v1/trigger`);

  const before = await dbMark(sql);
  window.begin();
  const p = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`oha exited ${code}: ${err.trim()}`);
  const open = await waitForTerminal(sql, workflowId, spec.drainS);
  const timings = await runTimings(sql, workflowId);
  const cpu = window.end(timings.completed, Number(p.resourceUsage()?.cpuTime.total ?? 0n) / 1e6);
  // PostgreSQL's statistics reach pg_stat_database within a second of the work.
  await Bun.sleep(1200);
  const after = await dbMark(sql);

  const o = parseOha(out, {
    target: "bun",
    round: 0,
    endpoint: "/api/v1/trigger",
    method: "POST",
    concurrency: spec.concurrency,
    duration_s: spec.durationS,
  });
  const accepted = o.status_codes["202"] ?? 0;
  const spanS = (timings.lastFinishedMs - timings.firstCreatedMs) / 1000;
  const completedRps = spanS > 0 ? timings.completed / spanS : 0;
  return {
    shape: spec.shape.name,
    mode: spec.mode,
    offered_rps: spec.mode === "open" ? (spec.rate ?? null) : null,
    concurrency: spec.concurrency,
    duration_s: spec.durationS,
    sent: o.requests,
    accepted,
    accepted_rps: Math.round(accepted / spec.durationS),
    completed_rps: Math.round(completedRps),
    steps_per_s: Math.round(completedRps * spec.shape.steps),
    // Accepted by the API but not in PostgreSQL, or never terminal: either is a run lost.
    lost: Math.max(0, accepted - timings.total) + open,
    failed: timings.failed,
    duplicate_steps: timings.duplicateSteps,
    service_start: timings.start,
    service_complete: timings.complete,
    trigger_p50_ms: o.p50_ms,
    trigger_p99_ms: o.p99_ms,
    ...(cpu && { cpu }),
    database: perRun(before, after, timings.completed),
  };
}
