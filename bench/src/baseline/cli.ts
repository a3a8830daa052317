/**
 * Makes a run the baseline of its scenario (its headline figures, see baseline.ts):
 *
 *   bun bench/src/baseline/cli.ts bench/results/<run>            prints the baseline it would write
 *   bun bench/src/baseline/cli.ts --write bench/results/<run>    writes bench/baselines/<scenario>.json
 *
 * <run> is a run's folder or its results.json. --commit <sha> names the commit the run measured,
 * for results of benches before that was recorded. Commit the new baseline with a word on why
 * that run is the one later runs should be held against.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { BenchResults } from "../results.ts";
import { extractBaseline } from "./baseline.ts";
import { writeBaseline } from "./file.ts";

const USAGE = "usage: bun bench/src/baseline/cli.ts [--write] [--commit <sha>] <run folder | results.json>";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    write: { type: "boolean", default: false },
    commit: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help || positionals.length !== 1) {
  console.error(USAGE);
  process.exit(values.help ? 0 : 2);
}
const given = positionals[0]!;
const file = existsSync(given) && statSync(given).isDirectory() ? join(given, "results.json") : given;
if (!existsSync(file)) {
  console.error(`no ${file}`);
  process.exit(1);
}
let results: BenchResults;
try {
  results = (await Bun.file(file).json()) as BenchResults;
} catch (err) {
  console.error(`${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
if (typeof results.scenario !== "string" || !Array.isArray(results.flow) || results.flow.length === 0) {
  console.error(`${file} has no scenario or no flow runs: nothing to make a baseline of`);
  process.exit(1);
}
const baseline = extractBaseline(results, values.commit);
if (values.write)
  console.log(`${writeBaseline(baseline)} (${baseline.scenario}, run of ${baseline.date}, commit ${baseline.commit ?? "unknown"})`);
else console.log(JSON.stringify(baseline, null, 2));
