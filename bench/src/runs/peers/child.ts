/**
 * The processes a peer starts: each with its output in a log file, each ended when the CLI ends
 * (`setpriv --pdeathsig`: the kernel sends SIGTERM to the child if the CLI dies without stopping
 * it), and stopped gracefully (SIGTERM, then SIGKILL after a grace period).
 */
import { closeSync, openSync, readFileSync } from "node:fs";
import { isPortServed } from "@wf/platform/process";
import type { Subprocess } from "bun";

export interface Child {
  name: string;
  pid: number;
  logPath: string;
  proc: Subprocess;
}

export function spawnChild(name: string, cmd: string[], o: { cwd?: string; env?: Record<string, string>; logPath: string }): Child {
  const fd = openSync(o.logPath, "w");
  try {
    // setpriv execs the command: the pid is the command's own.
    const proc = Bun.spawn(["setpriv", "--pdeathsig", "TERM", "--", ...cmd], {
      cwd: o.cwd,
      env: { ...process.env, ...o.env },
      stdin: "ignore",
      stdout: fd,
      stderr: fd,
    });
    return { name, pid: proc.pid, logPath: o.logPath, proc };
  } finally {
    closeSync(fd);
  }
}

export function isRunning(c: Child): boolean {
  return c.proc.exitCode === null && c.proc.signalCode === null;
}

/** The last lines of a child's log, for error messages. */
export function logTail(c: Child, lines = 20): string {
  try {
    return readFileSync(c.logPath, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export function assertRunning(c: Child): void {
  if (!isRunning(c))
    throw new Error(`${c.name} exited (${c.proc.exitCode ?? c.proc.signalCode}); last lines of ${c.logPath}:\n${logTail(c)}`);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopChild(c: Child, graceMs: number, log: (line: string) => void): Promise<void> {
  if (!isRunning(c)) return;
  c.proc.kill("SIGTERM");
  const exited = await Promise.race([c.proc.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
  if (!exited) {
    log(`${c.name} (pid ${c.pid}) still running ${graceMs / 1000} s after SIGTERM: SIGKILL`);
    c.proc.kill("SIGKILL");
    await c.proc.exited;
  }
}

/** Polls `check` until it holds; fails early when one of `children` has exited. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, children: Child[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    for (const c of children) assertRunning(c);
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not ready within ${timeoutMs / 1000} s${last ? ` (last error: ${String(last)})` : ""}`);
    await Bun.sleep(100);
  }
}

/** Throws if something already listens on the port: a peer started there would share it, or answer for it. */
export async function assertPortsFree(ports: number[]): Promise<void> {
  for (const port of ports)
    if (await isPortServed("127.0.0.1", port))
      throw new Error(`port ${port} is already served by another process (ss -ltnp 'sport = :${port}'): stop it first`);
}

/** GET `url` answered 2xx (within a second). */
export async function httpOk(url: string): Promise<boolean> {
  const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await r.arrayBuffer();
  return r.ok;
}
