import { type ErrorClass, FLOW_STEPS, type FlowRun, type FlowStep, type Target } from "../results.ts";
import { classifyError } from "./classify.ts";
import { histogram, stats } from "./stats.ts";
import { UserConnection } from "./user-connection.ts";

export interface FlowOptions {
  base: string;
  users: number;
  target: Target;
  round: number;
  /** Prefix of this run's workflow names and idempotency keys, so the audit can find its rows. */
  tag: string;
  timeoutMs: number;
  progress?: (line: string) => void;
}

export interface FlowOutput {
  flow: FlowRun;
  /** Run ids answered 202, for the audit. */
  accepted_runs: string[];
  workflows_created: number;
}

/** One sample per request, in parallel typed arrays: 10,000 users × 7 steps stay small. */
class Samples {
  step: Uint8Array;
  latency: Float64Array;
  end: Float64Array;
  error: Array<ErrorClass | undefined>;
  n = 0;
  constructor(capacity: number) {
    this.step = new Uint8Array(capacity);
    this.latency = new Float64Array(capacity);
    this.end = new Float64Array(capacity);
    this.error = new Array(capacity);
  }
  push(step: number, latency: number, end: number, error: ErrorClass | undefined) {
    const i = this.n++;
    this.step[i] = step;
    this.latency[i] = latency;
    this.end[i] = end;
    this.error[i] = error;
  }
}

const JSON_HEADERS = { "content-type": "application/json" };

/**
 * The reports' 7-step user flow: every virtual user starts at once and runs the steps in order,
 * each waiting for the previous one. Every request is recorded with its step, latency and error
 * class; a user whose step fails stops there (the next steps need its result).
 */
export async function runFlow(o: FlowOptions): Promise<FlowOutput> {
  const samples = new Samples(o.users * FLOW_STEPS.length);
  const accepted: string[] = [];
  let workflowsCreated = 0;
  let usersCompleted = 0;
  const t0 = performance.now();

  const { hostname, port } = new URL(o.base);

  /** One step's request; its answer is decoded only when a later step needs it (POST answers). */
  async function request<T = unknown>(conn: UserConnection, step: FlowStep, path: string, method = "GET", body?: string): Promise<T> {
    const idx = FLOW_STEPS.indexOf(step);
    const start = performance.now();
    let error: ErrorClass | undefined;
    let answer: unknown;
    try {
      const res = await conn.request(method, path, body === undefined ? {} : JSON_HEADERS, body, o.timeoutMs);
      if (res.status < 200 || res.status > 299) error = `http_${res.status}`;
      else if (method === "POST") {
        try {
          answer = JSON.parse(res.body.toString("utf8"));
        } catch {
          error = "other"; // a 2xx whose answer is not JSON: the next steps cannot go on
        }
      }
    } catch (err) {
      error = classifyError(err);
    }
    const end = performance.now();
    samples.push(idx, end - start, end - t0, error);
    if (error) throw new Error(error);
    return answer as T;
  }

  async function user(u: number): Promise<void> {
    const conn = new UserConnection(hostname, Number(port) || 80);
    try {
      await steps(conn, u);
    } finally {
      conn.close();
    }
  }

  async function steps(conn: UserConnection, u: number): Promise<void> {
    await request(conn, "health", "/health");
    await request(conn, "root", "/");
    const wf = await request<{ id: string }>(
      conn,
      "create_workflow",
      "/api/v1/workflows",
      "POST",
      JSON.stringify({
        name: `${o.tag}-${u}`,
        description: "bench flow workflow",
        steps: [
          { name: "shape", type: "transform", config: { output: { user: "{{input.user}}", round: o.round } } },
          { name: "note", type: "log", config: { message: "bench user {{input.user}}", level: "debug" } },
        ],
      }),
    );
    workflowsCreated++;
    await request(conn, "get_workflow", `/api/v1/workflows/${wf.id}`);
    const run = await request<{ run_id: string }>(
      conn,
      "trigger",
      "/api/v1/trigger",
      "POST",
      JSON.stringify({ workflow_id: wf.id, input: { user: u }, idempotency_key: `${o.tag}-${u}` }),
    );
    accepted.push(run.run_id);
    await request(conn, "get_run", `/api/v1/runs/${run.run_id}`);
    await request(conn, "list_runs", "/api/v1/runs?limit=50");
    usersCompleted++;
  }

  let done = 0;
  const ticker = setInterval(() => {
    const s = (performance.now() - t0) / 1000;
    let errors = 0;
    for (let i = 0; i < samples.n; i++) if (samples.error[i]) errors++;
    o.progress?.(
      `[flow ${o.target} r${o.round}] ${s.toFixed(0)}s users done ${done}/${o.users}, requests ${samples.n}, ${(samples.n / s).toFixed(0)} req/s, errors ${errors}`,
    );
  }, 1000);
  await Promise.all(
    Array.from({ length: o.users }, (_, u) =>
      user(u)
        .catch(() => {})
        .finally(() => done++),
    ),
  );
  clearInterval(ticker);
  const wall = (performance.now() - t0) / 1000;

  const n = samples.n;
  const lat = samples.latency.subarray(0, n);
  const failedAll = samples.error.slice(0, n).filter(Boolean).length;
  const per_step = {} as Record<FlowStep, ReturnType<typeof stats>>;
  FLOW_STEPS.forEach((step, idx) => {
    const mine: number[] = [];
    let failed = 0;
    for (let i = 0; i < n; i++)
      if (samples.step[i] === idx) {
        mine.push(lat[i]!);
        if (samples.error[i]) failed++;
      }
    per_step[step] = stats(Float64Array.from(mine), failed);
  });
  const errors: Partial<Record<ErrorClass, number>> = {};
  for (let i = 0; i < n; i++) {
    const e = samples.error[i];
    if (e) errors[e] = (errors[e] ?? 0) + 1;
  }
  const timeline: FlowRun["timeline"] = [];
  for (let i = 0; i < n; i++) {
    const sec = Math.floor(samples.end[i]! / 1000);
    while (timeline.length <= sec) timeline.push({ t_s: timeline.length, requests: 0, errors: 0 });
    timeline[sec]!.requests++;
    if (samples.error[i]) timeline[sec]!.errors++;
  }
  return {
    flow: {
      target: o.target,
      round: o.round,
      users: o.users,
      wall_s: Math.round(wall * 1000) / 1000,
      requests: n,
      ok: n - failedAll,
      failed: failedAll,
      throughput_rps: Math.round((n / wall) * 10) / 10,
      throughput_ok_rps: Math.round(((n - failedAll) / wall) * 10) / 10,
      users_completed: usersCompleted,
      overall: stats(lat, failedAll),
      per_step,
      errors,
      timeline,
      histogram: histogram(lat),
    },
    accepted_runs: accepted,
    workflows_created: workflowsCreated,
  };
}
