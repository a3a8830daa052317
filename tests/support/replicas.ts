import { createServer } from "node:net";
import { join } from "node:path";
import type { Subprocess } from "bun";

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

// Below Linux's ephemeral range (32768 and up by default), so that no outgoing connection of the
// tests — Kafka, PostgreSQL, Redis clients open hundreds — can take a port between this check and
// the server's bind. A port the kernel hands out for `listen(0)` is an ephemeral one, and the next
// ports after it are exactly the ones new connections get.
const LOW = 20_000;
const HIGH = 32_000;

/** The first of `count` consecutive ports that are free on every address (a server of the tests binds one each). */
export async function freePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = LOW + Math.floor(Math.random() * (HIGH - LOW - count));
    let free = true;
    for (let p = base; free && p < base + count; p++) free = await canListen(p, "0.0.0.0");
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free ports between ${LOW} and ${HIGH}`);
}

export const freePort = (): Promise<number> => freePorts(1);

/** `bun run api` as a user runs it: the supervisor and its replicas, on a port of their own. */
export function startApiReplicas(port: number, replicas: number, env: Record<string, string> = {}): Subprocess<"ignore", "pipe", "pipe"> {
  return Bun.spawn([process.execPath, join(import.meta.dir, "../../api/src/main.ts")], {
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", API_REPLICAS: String(replicas), LOG_LEVEL: "info", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
}

/** JSON log lines of a process, collected as they come. */
export function collectLines(p: Subprocess<"ignore", "pipe", "pipe">): string[] {
  const lines: string[] = [];
  const decoder = new TextDecoder();
  for (const stream of [p.stdout, p.stderr])
    void (async () => {
      for await (const chunk of stream)
        lines.push(
          ...decoder
            .decode(chunk)
            .split("\n")
            .filter((l) => l.startsWith("{")),
        );
    })();
  return lines;
}

export interface LoadResult {
  ok: number;
  failed: number;
  failures: string[];
}

/**
 * Steady load until `stop()` resolves: `concurrency` loops, each sending requests one after another
 * over keep-alive connections, as a client pool would. Every failure is recorded.
 */
export function steadyLoad(urls: Array<string | (() => Request)>, concurrency: number): { stop(): Promise<LoadResult> } {
  const result: LoadResult = { ok: 0, failed: 0, failures: [] };
  let running = true;
  const loops = Array.from({ length: concurrency }, async (_, i) => {
    for (let n = 0; running; n++) {
      const next = urls[(i + n) % urls.length]!;
      const req = typeof next === "string" ? new Request(next) : next();
      const url = `${req.method} ${req.url}`;
      try {
        const res = await fetch(req);
        const text = await res.text();
        if (res.ok) result.ok++;
        else {
          result.failed++;
          // the problem's detail says which dependency or rule refused it
          result.failures.push(`${res.status} ${url} ${text.slice(0, 200)}`);
        }
      } catch (err) {
        result.failed++;
        result.failures.push(`${err instanceof Error ? err.message : String(err)} ${url}`);
      }
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return result;
    },
  };
}
