import { type ChildProcess, spawn } from "node:child_process";
import { errorFields, type Logger } from "../observability/logger.ts";
import { removeScrapeTargets, type ScrapeTarget, writeScrapeTargets } from "./scrape-targets.ts";

export interface SupervisorOptions {
  name: string;
  replicas: number;
  /** Program and arguments of one replica. */
  command: [string, ...string[]];
  log: Logger;
  /** How long replicas may take to drain after SIGTERM before they are killed. */
  stopTimeoutMs: number;
  /** Where Prometheus finds the replicas: a file_sd file kept while the supervisor runs. */
  scrapeTargets?: { dir: string; name: string; targets: ScrapeTarget[] };
}

/**
 * Runs N replicas of a program and keeps N running: a replica that exits on its own is started
 * again (after 1 s, doubling while it keeps crashing, up to 30 s). SIGTERM or SIGINT is passed to
 * every replica; the supervisor exits 0 once all have exited, killing those still running after
 * `stopTimeoutMs`. Uses node:child_process so the Node reference can use it too.
 */
export function supervise(o: SupervisorOptions): void {
  const children = new Map<number, ChildProcess>();
  const crashes = new Array<number>(o.replicas).fill(0);
  let stopping = false;
  let targetsFile: string | undefined;

  const start = (index: number) => {
    const startedAt = Date.now();
    const child = spawn(o.command[0], o.command.slice(1), {
      stdio: "inherit",
      env: { ...process.env, REPLICA_INDEX: String(index) },
    });
    children.set(index, child);
    o.log.info(`${o.name} replica started`, { replica: index, pid: child.pid });
    child.on("exit", (code, signal) => {
      children.delete(index);
      if (stopping) return;
      // A replica that ran a minute is healthy again: its back-off starts over.
      crashes[index] = Date.now() - startedAt > 60_000 ? 1 : (crashes[index] ?? 0) + 1;
      const delay = Math.min(30_000, 1000 * 2 ** ((crashes[index] ?? 1) - 1));
      o.log.warn(`${o.name} replica exited; restarting`, { replica: index, pid: child.pid, code, signal, restart_in_ms: delay });
      setTimeout(() => !stopping && start(index), delay);
    });
  };

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    o.log.info(`${o.name} stopping replicas`, { signal, replicas: children.size });
    for (const c of children.values()) c.kill("SIGTERM");
    const killer = setTimeout(() => {
      for (const c of children.values()) c.kill("SIGKILL");
    }, o.stopTimeoutMs);
    const wait = setInterval(() => {
      if (children.size > 0) return;
      clearInterval(wait);
      clearTimeout(killer);
      if (targetsFile) removeScrapeTargets(targetsFile);
      o.log.info(`${o.name} stopped`);
      process.exit(0);
    }, 50);
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  for (let i = 0; i < o.replicas; i++) start(i);
  if (o.scrapeTargets) {
    const { dir, name, targets } = o.scrapeTargets;
    try {
      targetsFile = writeScrapeTargets(dir, name, targets);
      o.log.info(`${o.name} scrape targets written`, { file: targetsFile, targets: targets.length });
    } catch (err) {
      o.log.warn(`${o.name} scrape targets not written`, { dir, ...errorFields(err) });
    }
  }
}
