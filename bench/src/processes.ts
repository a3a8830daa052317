import type { Subprocess } from "bun";

export interface Started {
  name: string;
  proc: Subprocess;
  stop(): Promise<void>;
}

export async function waitHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s`);
    await Bun.sleep(200);
  }
}

/** A long-running program of the product (API, worker), stopped with SIGTERM as in production. */
export function start(name: string, cmd: string[], env: Record<string, string>, logFile: string): Started {
  const proc = Bun.spawn(cmd, { env: { ...process.env, ...env }, stdout: Bun.file(logFile), stderr: Bun.file(`${logFile}.err`) });
  return {
    name,
    proc,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 60_000);
      await proc.exited;
      clearTimeout(t);
    },
  };
}

/** Runs a command to completion; its output, or an error with both streams. */
export async function run(cmd: string[], env: Record<string, string> = {}): Promise<string> {
  const p = Bun.spawn(cmd, { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}:\n${out}\n${err}`);
  return out;
}
