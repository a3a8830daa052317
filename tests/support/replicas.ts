import type { Subprocess } from "bun";
import { createServer } from "node:net";
import { join } from "node:path";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

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
      for await (const chunk of stream) lines.push(...decoder.decode(chunk).split("\n").filter((l) => l.startsWith("{")));
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
