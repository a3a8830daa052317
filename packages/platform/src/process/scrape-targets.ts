import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** One file_sd group: the /metrics address of one replica and the labels Prometheus adds to its series. */
export interface ScrapeTarget {
  address: string;
  labels: Record<string, string>;
}

/**
 * A Prometheus file_sd file (`<dir>/<name>.json`) listing a supervisor's replicas, so Prometheus
 * follows replica counts without a hand-edited config. Written whole and renamed into place:
 * Prometheus watches the directory and must never read half a file.
 */
export function writeScrapeTargets(dir: string, name: string, targets: readonly ScrapeTarget[]): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(
    tmp,
    `${JSON.stringify(
      targets.map((t) => ({ targets: [t.address], labels: t.labels })),
      null,
      2,
    )}\n`,
  );
  renameSync(tmp, path);
  return path;
}

export function removeScrapeTargets(path: string): void {
  rmSync(path, { force: true });
}

/**
 * The scrape targets of API replicas on `port`: each replica's own metrics port when there is one
 * (`metricsPort` + index); otherwise the shared port, which is one target only with one replica
 * (with more, each scrape reaches one of them at random, so the series jump between replicas).
 */
export function apiScrapeTargets(
  host: string,
  port: number,
  replicas: number,
  metricsPort: number,
  log: { warn(msg: string, fields?: Record<string, unknown>): void },
): ScrapeTarget[] {
  if (metricsPort > 0)
    return Array.from({ length: replicas }, (_, i) => ({ address: `${host}:${metricsPort + i}`, labels: { replica: String(i) } }));
  if (replicas > 1)
    log.warn("several replicas and no per-replica metrics port: Prometheus scrapes one replica at random; set API_METRICS_PORT", {
      replicas,
    });
  return [{ address: `${host}:${port}`, labels: { replica: replicas > 1 ? "any" : "0" } }];
}
