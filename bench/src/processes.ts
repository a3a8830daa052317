import { join } from "node:path";
import { isPortServed } from "@wf/platform/process";
import type { Subprocess } from "bun";

export interface Started {
  name: string;
  proc: Subprocess;
  stop(): Promise<void>;
}

/** Waits for `url` to answer 200; with `server`, fails as soon as that process has exited. */
export async function waitHttp(url: string, timeoutMs: number, server?: Started): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server) assertRunning(server);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      // Ready only if our process still runs: an answer could come from another one on the port.
      if (r.ok) return server ? assertRunning(server) : undefined;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s`);
    await Bun.sleep(200);
  }
}

/** Throws unless the process is still running: a measurement of a target that exited measured something else. */
export function assertRunning(s: Started): void {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null)
    throw new Error(
      `${s.name} exited (${s.proc.exitCode ?? s.proc.signalCode}); its log says why (${s.name}.log.err in the report's folder)`,
    );
}

/**
 * Throws if something already listens on the port. The API replicas bind with SO_REUSEPORT, so a
 * leftover server there does not make the target fail to start: it shares the target's traffic,
 * or answers for it when the target's own supervisor refuses the taken port and exits.
 */
export async function assertPortFree(port: number): Promise<void> {
  if (await isPortServed("127.0.0.1", port))
    throw new Error(
      `port ${port} is already served by another process (ss -ltnp 'sport = :${port}'): stop it before benchmarking, or the bench would measure it`,
    );
}

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

const STACK_SERVICES = ["postgres", "pgbouncer", "redis", "kafka"];

/** Starts what of the local stack is not running; the services it started, for the caller to stop at the end. */
export async function stackUp(root: string, log: (line: string) => void): Promise<string[]> {
  const status = await run([join(root, "infra/stack"), "status"]).catch(() => "");
  const down = STACK_SERVICES.filter((s) => !new RegExp(`^${s}\\s+running`, "m").test(status));
  if (down.length > 0) {
    log(`[bench] starting the local stack (infra/stack up ${down.join(" ")})`);
    const p = Bun.spawn([join(root, "infra/stack"), "up", ...down], { stdout: "inherit", stderr: "inherit" });
    if ((await p.exited) !== 0) throw new Error(`infra/stack up ${down.join(" ")} failed (see above)`);
  }
  return down;
}
