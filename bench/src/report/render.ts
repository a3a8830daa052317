import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { BenchResults } from "../results.ts";
import { toHtml } from "./html.ts";
import { toMarkdown } from "./markdown.ts";
import { buildReport } from "./model.ts";

/**
 * Writes report.md and report.html into `dir` from a run's results (results.json itself is
 * written by the caller). The HTML is one self-contained file: styles, data and Chart.js inline.
 */
export async function renderReport(results: BenchResults, dir: string): Promise<void> {
  const blocks = buildReport(results);
  await mkdir(dir, { recursive: true });
  await Bun.write(join(dir, "report.md"), toMarkdown(blocks));
  await Bun.write(join(dir, "report.html"), toHtml(blocks, `Benchmark report: ${results.scenario}`));
}
