import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { sampleWorkflow, unique, waitFor } from "../support/api.ts";
import { collectLines, freePort, startApiReplicas, steadyLoad } from "../support/replicas.ts";

let port: number;
let base: string;
let sup: Subprocess<"ignore", "pipe", "pipe">;
let lines: string[];
let urls: string[];

const pidOf = async (): Promise<number> => (await (await fetch(`${base}/`, { headers: { connection: "close" } })).json()).pid;
const replicaPids = () => {
  const alive = new Map<number, number>();
  for (const l of lines) {
    const e = JSON.parse(l);
    if (e.msg === "api replica started") alive.set(e.replica, e.pid);
  }
  return [...alive.values()];
};

beforeAll(async () => {
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  sup = startApiReplicas(port, 3, { KAFKA_RUNS_TOPIC: unique("runs-replicas"), API_DRAIN_MS: "1000" });
  lines = collectLines(sup);
  await waitFor("3 replicas listening", async () => lines.filter((l) => l.includes("api replica listening")).length === 3, 30_000);
  const wf = await (
    await fetch(`${base}/api/v1/workflows`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(sampleWorkflow()),
    })
  ).json();
  urls = [`${base}/health`, `${base}/api/v1/workflows/${wf.id}`, `${base}/api/v1/workflows?limit=5`, `${base}/`];
});
afterAll(async () => {
  sup.kill("SIGTERM");
  await sup.exited;
});

describe("bun run api with 3 replicas on one port", () => {
  test("all replicas serve, each reporting its own pid", async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 60 && seen.size < 3; i++) seen.add(await pidOf());
    expect([...seen].sort()).toEqual(replicaPids().sort());
  });

  test("a second `bun run api` on the same port refuses to start", async () => {
    const other = startApiReplicas(port, 1);
    const out = collectLines(other);
    expect(await other.exited).toBe(1);
    expect(out.join("\n")).toContain(`port ${port} is already served by another process`);
  });

  test("a replica killed under load is restarted; only requests in flight on it fail", async () => {
    const load = steadyLoad(urls, 16);
    await Bun.sleep(1000);
    const [victim] = replicaPids();
    process.kill(victim!, "SIGKILL");
    await waitFor("a replacement replica", async () => replicaPids().length === 3 && !replicaPids().includes(victim!), 20_000);
    await waitFor("it to listen", async () => lines.filter((l) => l.includes("api replica listening")).length >= 4, 20_000);
    await Bun.sleep(1000);
    const r = await load.stop();
    expect(r.ok).toBeGreaterThan(100);
    // At most one request per load loop can have been on the killed replica at that instant.
    expect(r.failed).toBeLessThanOrEqual(16);
    expect(lines.some((l) => l.includes("api replica exited; restarting"))).toBe(true);
  });

  test("a rolling restart (SIGTERM each replica in turn) under steady load fails no request", async () => {
    const load = steadyLoad(urls, 16);
    await Bun.sleep(500);
    for (const pid of replicaPids()) {
      const listening = lines.filter((l) => l.includes("api replica listening")).length;
      process.kill(pid, "SIGTERM");
      await waitFor(
        "its replacement to listen",
        async () => lines.filter((l) => l.includes("api replica listening")).length > listening,
        30_000,
      );
    }
    await Bun.sleep(500);
    const r = await load.stop();
    expect(r.ok).toBeGreaterThan(100);
    expect(r.failures).toEqual([]);
  });
});
