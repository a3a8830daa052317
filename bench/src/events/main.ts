import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "@wf/platform/config";
import { intOption, optionsOrExit } from "../options.ts";
import { assertRunning, start, waitHttp } from "../processes.ts";

/**
 * `bun run bench:events`: what open run events streams cost one API process. Starts one API
 * process (api/src/server.ts, no supervisor, so its pid is the API) and one worker on a topic of
 * their own, triggers --streams runs that wait for a signal, opens one stream per run, then
 * measures the API's RSS and CPU over --idle-s seconds with every stream idle (heartbeats and the
 * slow poll only), and the delivery latency: each run is signalled, and the time from its stored
 * end (finished_at, PostgreSQL's clock, this machine) to its terminal event at the client.
 * Prints the figures; writes nothing.
 */
const ROOT = join(import.meta.dir, "../../..");
const { values: args } = parseArgs({
  options: {
    streams: { type: "string", default: "1000" },
    "idle-s": { type: "string", default: "20" },
    port: { type: "string", default: "3900" },
  },
});
const opts = optionsOrExit(() => ({
  streams: intOption("--streams", args.streams!, 1, 100_000),
  idleS: intOption("--idle-s", args["idle-s"]!, 1, 3600),
  port: intOption("--port", args.port!, 1, 65535),
}));
const log = (line: string) => process.stderr.write(`${line}\n`);
// Bun's fetch keeps at most 256 requests in flight by default (the rest queue): the streams need
// one each, so the bench runs itself again with room for all of them.
if (process.env.BUN_CONFIG_MAX_HTTP_REQUESTS === undefined) {
  const self = Bun.spawn([process.execPath, ...process.argv.slice(1)], {
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: String(Math.min(65_000, opts.streams + 256)) },
    stdio: ["inherit", "inherit", "inherit"],
  });
  process.exit(await self.exited);
}
const base = `http://127.0.0.1:${opts.port}`;
const tag = `bench-events-${Date.now().toString(36)}`;
const env = {
  PORT: String(opts.port),
  HOST: "127.0.0.1",
  LOG_LEVEL: "warn",
  KAFKA_RUNS_TOPIC: tag,
  KAFKA_DEAD_LETTER_TOPIC: `${tag}.dlq`,
  WORKER_GROUP_ID: tag,
  WORKER_METRICS_PORT: "0",
  PENDING_STALE_MS: "86400000",
  // Runs wait for their signal parked, holding no worker slot.
  PARK_AFTER_MS: "0",
};

/** RSS (KiB) and CPU ticks (utime + stime, 1/100 s) of a process, from /proc. */
const procStats = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(status.match(/VmRSS:\s+(\d+)/)?.[1]);
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { rssMb: rssKb / 1024, ticks: Number(f[11]) + Number(f[12]) };
};
const post = async (path: string, body: unknown) => {
  const r = await fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (r.status >= 300) throw new Error(`POST ${path}: ${r.status} ${await r.text()}`);
  return r.json();
};
/** Runs `f` over `items`, `n` at a time. */
async function pool<T>(items: T[], n: number, f: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await f(items[next++]!);
    }),
  );
}
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

interface Stream {
  runId: string;
  events: number;
  waiting: boolean;
  endedAt?: number;
  finishedAt?: number;
}

const api = start("api", [process.execPath, join(ROOT, "api/src/server.ts")], env, `/tmp/${tag}-api.log`);
const worker = start("worker", [process.execPath, join(ROOT, "worker/src/process.ts")], env, `/tmp/${tag}-worker.log`);
const redis = new Bun.RedisClient(loadConfig(process.env).redisUrl);
const aborts = new AbortController();
try {
  await waitHttp(`${base}/health/ready`, 60_000, api);
  const wf = await post("/api/v1/workflows", {
    name: tag,
    steps: [
      { name: "approve", type: "wait_for_signal", config: { signal: "go" } },
      { name: "done", type: "transform", config: { output: { ok: true } } },
    ],
  });
  const before = procStats(api.proc.pid);
  log(`[events] API up (pid ${api.proc.pid}), RSS ${before.rssMb.toFixed(1)} MiB; triggering ${opts.streams} runs`);
  const runIds: string[] = [];
  await pool(
    Array.from({ length: opts.streams }, (_, i) => i),
    32,
    async () => {
      runIds.push((await post("/api/v1/trigger", { workflow_id: wf.id })).run_id);
    },
  );
  const streams: Stream[] = runIds.map((runId) => ({ runId, events: 0, waiting: false }));
  const decoder = new TextDecoder();
  const open = (s: Stream) =>
    (async () => {
      const res = await fetch(`${base}/api/v1/runs/${s.runId}/events`, { signal: aborts.signal });
      if (res.status !== 200) throw new Error(`stream of ${s.runId}: ${res.status}`);
      let buf = "";
      for await (const chunk of res.body!) {
        buf += decoder.decode(chunk, { stream: true });
        for (let end = buf.indexOf("\n\n"); end >= 0; end = buf.indexOf("\n\n")) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const data = block.split("\n").find((l) => l.startsWith("data: "));
          if (!data) continue;
          s.events++;
          const d = JSON.parse(data.slice(6));
          if (d.name === "approve" && d.status === "waiting") s.waiting = true;
          if (d.name === undefined && d.status === "completed") {
            s.endedAt = Date.now();
            s.finishedAt = Date.parse(d.finished_at);
          }
        }
      }
    })().catch((err) => {
      if (!aborts.signal.aborted) log(`[events] stream failed: ${err}`);
    });
  const t0 = performance.now();
  const done = streams.map(open);
  for (const deadline = Date.now() + 120_000; streams.some((s) => !s.waiting); ) {
    if (Date.now() > deadline) throw new Error(`${streams.filter((s) => !s.waiting).length} runs never showed their waiting step`);
    assertRunning(api);
    await Bun.sleep(100);
  }
  log(
    `[events] ${opts.streams} streams open, every run waiting (${((performance.now() - t0) / 1000).toFixed(1)} s); idle for ${opts.idleS} s`,
  );
  // The API's one subscriber connection holds a channel per streamed run.
  const subscribed = ((await redis.send("PUBSUB", ["CHANNELS", "wf:run-changed:*"])) as string[]).length;
  await Bun.sleep(2000);
  const idle0 = procStats(api.proc.pid);
  await Bun.sleep(opts.idleS * 1000);
  const idle1 = procStats(api.proc.pid);
  const cpuPct = (idle1.ticks - idle0.ticks) / opts.idleS;
  log(`[events] signalling every run`);
  const busy0 = procStats(api.proc.pid);
  const s0 = performance.now();
  await pool(runIds, 32, async (id) => {
    await post(`/api/v1/runs/${id}/signals/go`, {});
  });
  await Promise.race([Promise.all(done), Bun.sleep(120_000)]);
  const busy1 = procStats(api.proc.pid);
  const busyS = (performance.now() - s0) / 1000;
  const lat = streams
    .filter((s) => s.endedAt !== undefined)
    .map((s) => s.endedAt! - s.finishedAt!)
    .sort((a, b) => a - b);
  const result = {
    machine: `${cpus().length} × ${cpus()[0]?.model ?? "?"}`,
    streams: opts.streams,
    api_rss_mb: { before_streams: +before.rssMb.toFixed(1), idle_streams: +idle1.rssMb.toFixed(1) },
    rss_per_stream_kb: +(((idle1.rssMb - before.rssMb) * 1024) / opts.streams).toFixed(1),
    idle_api_cpu_percent_of_one_core: +cpuPct.toFixed(2),
    idle_window_s: opts.idleS,
    redis_channels_subscribed: subscribed,
    ended_streams: lat.length,
    events_received: streams.reduce((n, s) => n + s.events, 0),
    delivery_latency_ms: lat.length ? { p50: pct(lat, 50), p95: pct(lat, 95), p99: pct(lat, 99), max: lat.at(-1) } : null,
    signal_phase: { seconds: +busyS.toFixed(1), api_cpu_percent_of_one_core: +((busy1.ticks - busy0.ticks) / busyS).toFixed(1) },
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  aborts.abort();
  redis.close();
  await Promise.all([worker.stop(), api.stop()]);
}
