/**
 * Re-renders report.md and report.html from a run's results.json:
 *
 *   bun bench/src/report/cli.ts bench/results/<timestamp>
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { BenchResults } from "../results.ts";
import { renderReport } from "./render.ts";

const dir = process.argv[2];
if (!dir || dir === "-h" || dir === "--help") {
  console.error("usage: bun bench/src/report/cli.ts <dir>   (re-renders <dir>/report.md and <dir>/report.html from <dir>/results.json)");
  process.exit(dir ? 0 : 2);
}
const file = join(dir, "results.json");
if (!existsSync(file)) {
  console.error(`no results.json in ${dir}`);
  process.exit(1);
}
let results: BenchResults;
try {
  results = (await Bun.file(file).json()) as BenchResults;
} catch (err) {
  console.error(`${file} is not valid JSON: ${(err as Error).message}`);
  process.exit(1);
}
for (const key of ["scenario", "machine", "flow", "oha", "audit", "targets", "reference"] as const)
  if (!(key in results)) {
    console.error(`${file} has no "${key}": not a benchmark results file`);
    process.exit(1);
  }
await renderReport(results, dir);
console.log(`${join(dir, "report.md")}\n${join(dir, "report.html")}`);
