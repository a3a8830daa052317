/**
 * bun run bench:micro [filter]
 *
 * Micro benchmarks of the service's hot paths (validation, JSON, cursors, templating, definition
 * rules, cache keys, ids) with mitata; prints mitata's report and writes a JSON summary to
 * bench/results/micro-<timestamp>.json. `filter` is a regular expression on group or name.
 */
import { relative } from "node:path";
import { runMicro } from "./run.ts";

const arg = process.argv[2];
if (arg === "-h" || arg === "--help") {
  console.log("usage: bun run bench:micro [filter]   (filter: a regular expression matched against benchmark group or name)");
  process.exit(0);
}
const t0 = performance.now();
try {
  const { summary, file } = await runMicro({ filter: arg ? new RegExp(arg, "i") : undefined, print: true });
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(
    `\n${summary.benchmarks.length} benchmarks in ${s} s on ${summary.machine.cores} cores (${summary.machine.cpu_model}); summary: ${relative(process.cwd(), file!)}`,
  );
} catch (err) {
  console.error(`bench:micro: ${(err as Error).message}`);
  process.exit(1);
}
