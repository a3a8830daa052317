import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import type { BenchResults, Target } from "../results.ts";
import { int, ms, pct, ratio, rps } from "./format.ts";
import { renderReport } from "./render.ts";
import { sampleResults } from "./sample.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOT = "/tmp/bench-report.png";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

let results: BenchResults;
let dir: string;
let md: string;
let html: string;

beforeAll(async () => {
  results = sampleResults();
  dir = mkdtempSync(join(tmpdir(), "wf-report-"));
  await renderReport(results, dir);
  md = await Bun.file(join(dir, "report.md")).text();
  html = await Bun.file(join(dir, "report.html")).text();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the synthetic results", () => {
  test("are what the report tests need: both targets, 3 rounds, a failed audit, a target not met", () => {
    for (const t of ["bun", "node"]) expect(results.flow.filter((f) => f.target === t).length).toBe(3);
    expect(results.audit.some((a) => !a.passed)).toBe(true);
    expect(results.targets.some((t) => !t.met)).toBe(true);
    expect(results.targets.some((t) => t.met)).toBe(true);
  });
});

describe("report.md", () => {
  const of = (t: string) => results.flow.filter((f) => f.target === t).sort((a, b) => a.round - b.round);

  test("opens with the headline table: medians of rounds and the Bun/Node ratio", () => {
    const bun = of("bun");
    const node = of("node");
    const bunRps = median(bun.map((f) => f.throughput_rps));
    const nodeRps = median(node.map((f) => f.throughput_rps));
    const ratios = bun.map((b, i) => b.throughput_rps / node[i]!.throughput_rps);
    const headline = md.indexOf("## Headline");
    expect(headline).toBeGreaterThan(0);
    expect(headline).toBeLessThan(md.indexOf("## Targets"));
    const row = md.split("\n").find((l) => l.startsWith("| Throughput, all requests (req/s)"))!;
    expect(row).toBeDefined();
    expect(row).toContain(`| ${rps(bunRps)} | ${rps(nodeRps)} | ${ratio(median(ratios))} |`);
    expect(row).toContain(`${ratio(Math.min(...ratios))}–${ratio(Math.max(...ratios))}`);
    expect(row).toContain("Bun by");
    // A value ≥ 10 ms has one decimal, thousands separated.
    const p99 = median(bun.map((f) => f.overall.p99_ms));
    expect(p99).toBeGreaterThan(1000);
    expect(md.split("\n").find((l) => l.startsWith("| Latency p99 (ms)"))).toContain(`| ${ms(p99)} |`);
    expect(ms(p99)).toMatch(/^\d,\d{3}\.\d$/);
    expect(md).toContain(`| Error rate (%) | 0% | ${pct(median(node.map((f) => (100 * f.failed) / f.requests)))} |`);
    expect(md).toContain("| Users completed (of 10,000) | 10,000 |");
  });

  test("says up front how many API replicas each target ran with", async () => {
    expect(results.config.api_replicas).toBe(2);
    expect(md.slice(0, md.indexOf("## Headline"))).toContain(
      "Bun and Node, 3 rounds each, 2 API replicas per target, 10,000 concurrent users",
    );
    const one = sampleResults();
    one.config.api_replicas = 1;
    const { md: text } = await renderApart(one);
    expect(text).toContain(", 1 API replica per target,");
  });

  test("says where the CPU went: per request of the API, and each part of the machine, with Bun/Node", () => {
    const bun = of("bun");
    const node = of("node");
    const section = md.indexOf("## Where the CPU went during the flows");
    expect(section).toBeGreaterThan(md.indexOf("## Targets"));
    const perRequest = (fs: typeof bun) => median(fs.map((f) => f.cpu!.api_us_per_request));
    const ratios = bun.map((b, i) => b.cpu!.api_us_per_request / node[i]!.cpu!.api_us_per_request);
    const row = md.split("\n").find((l) => l.startsWith("| API CPU per request (µs)"))!;
    expect(row).toBe(
      `| API CPU per request (µs) | ${int(perRequest(bun))} | ${int(perRequest(node))} | ${ratio(median(ratios))} | ${ratio(Math.min(...ratios))}–${ratio(Math.max(...ratios))} |`,
    );
    expect(md.split("\n").find((l) => l.startsWith("| Flow runner (the load generator) (CPU-s)"))).toContain("| 3.20 | 3.20 | 1.00× |");
    // The API's CPU per request, split between the kernel and user space.
    const kernel = (fs: typeof bun) => median(fs.map((f) => f.cpu!.api_kernel_us_per_request!));
    const user = (fs: typeof bun) => median(fs.map((f) => f.cpu!.api_us_per_request - f.cpu!.api_kernel_us_per_request!));
    expect(md.split("\n").find((l) => l.startsWith("| … of it in the kernel (µs)"))).toStartWith(
      `| … of it in the kernel (µs) | ${int(kernel(bun))} | ${int(kernel(node))} |`,
    );
    expect(md.split("\n").find((l) => l.startsWith("| … of it in user space (µs)"))).toStartWith(
      `| … of it in user space (µs) | ${int(user(bun))} | ${int(user(node))} |`,
    );
    expect(user(bun)).toBeLessThan(user(node));
    // And split between the main threads and the runtime's helper threads.
    const helpers = (fs: typeof bun) => median(fs.map((f) => f.cpu!.api_helper_threads_us_per_request!));
    const main = (fs: typeof bun) => median(fs.map((f) => f.cpu!.api_us_per_request - f.cpu!.api_helper_threads_us_per_request!));
    const helperRow = "… of it on the runtime's helper threads (µs)";
    expect(md.split("\n").find((l) => l.startsWith(`| ${helperRow}`))).toStartWith(
      `| ${helperRow} | ${int(helpers(bun))} | ${int(helpers(node))} |`,
    );
    const mainRow = "… of it on the main threads (event loops) (µs)";
    expect(md.split("\n").find((l) => l.startsWith(`| ${mainRow}`))).toStartWith(`| ${mainRow} | ${int(main(bun))} | ${int(main(node))} |`);
    expect(helpers(bun)).toBeLessThan(helpers(node));
    expect(html).toContain("cpu-share");
  });

  test("puts the machine's CPU per request, and what the ratio target asks of the Bun API", () => {
    const perRequest = (t: Target, parts: (c: NonNullable<BenchResults["flow"][number]["cpu"]>) => number) =>
      median(of(t).map((f) => (parts(f.cpu!) * 1e6) / f.requests));
    const machine = (t: Target) => perRequest(t, (c) => c.api_s + c.workers_s + c.runner_s + c.rest_s);
    const outside = (t: Target) => perRequest(t, (c) => c.workers_s + c.runner_s + c.rest_s);
    const row = (name: string) => md.split("\n").find((l) => l.startsWith(`| ${name}`))!;
    expect(row("Machine CPU per request (µs)")).toStartWith(
      `| Machine CPU per request (µs) | ${int(machine("bun"))} | ${int(machine("node"))} |`,
    );
    expect(row("… of it outside the API (µs)")).toStartWith(
      `| … of it outside the API (µs) | ${int(outside("bun"))} | ${int(outside("node"))} |`,
    );

    const text = md.split("\n").find((l) => l.startsWith("**What 1.50× asks of the API.**"))!;
    expect(text).toContain(`${int(machine("bun"))} µs of CPU under Bun and ${int(machine("node"))} µs under Node`);
    expect(text).toContain(`Bun/Node would be ${ratio(machine("node") / machine("bun"))}`);
    const throughput = of("bun").map((b, i) => b.throughput_rps / of("node")[i]!.throughput_rps);
    expect(text).toContain(`(measured: ${ratio(median(throughput))})`);
    const allowed = machine("node") / 1.5 - outside("bun");
    expect(allowed).toBeGreaterThan(0);
    expect(text).toContain(
      `the Bun API could use at most **${int(allowed)} µs** per request, against the ${int(median(of("bun").map((f) => f.cpu!.api_us_per_request)))} µs it used`,
    );
    expect(text).toContain(`would give at most ${ratio(machine("node") / outside("bun"))}.`);

    const api = (t: Target) => median(of(t).map((f) => f.cpu!.api_us_per_request));
    const bound = md.split("\n").find((l) => l.startsWith("**The bound set by the API alone.**"))!;
    expect(api("node") / api("bun")).toBeLessThan(1.5);
    expect(bound).toContain(`${int(api("node"))} µs / ${int(api("bun"))} µs = ${ratio(api("node") / api("bun"))}.`);
    expect(bound).toContain(
      `reaches 1.50× only if the Bun API uses at most 0.67× Node's CPU per request: ${int(api("node") / 1.5)} µs here, against the ${int(api("bun"))} µs it used.`,
    );
  });

  test("says when the API alone would clear the ratio target, and the shared work holds it down", async () => {
    const lean = sampleResults();
    for (const f of lean.flow) if (f.target === "bun") f.cpu!.api_us_per_request /= 3;
    const { md: text } = await renderApart(lean);
    expect(text).toContain("it loses to the work outside the API, which both targets share on this machine.");
    expect(text).not.toContain("Wherever the rest runs");
  });

  test("says when the work outside the API alone rules the ratio target out", async () => {
    const heavy = sampleResults();
    for (const f of heavy.flow) if (f.target === "bun") f.cpu!.runner_s *= 10;
    const { md: text } = await renderApart(heavy);
    expect(text).toContain("the work outside the API alone exceeds that, so no API could reach it on this machine");
    expect(text).not.toContain("NaN");
  });

  test("without Node's rounds there is no ratio to budget", async () => {
    const bunOnly = sampleResults();
    bunOnly.flow = bunOnly.flow.filter((f) => f.target === "bun");
    const { md: text } = await renderApart(bunOnly);
    expect(text).toContain("| Machine CPU per request (µs) |");
    expect(text).not.toContain("asks of the API");
  });

  test("splits the rest by the stack's services, and what is left of it", () => {
    const row = (name: string) => md.split("\n").find((l) => l.startsWith(`| ${name}`));
    expect(row("… of it PostgreSQL (CPU-s)")).toStartWith("| … of it PostgreSQL (CPU-s) | 0.62 | 0.62 |");
    expect(row("… of it PgBouncer (CPU-s)")).toStartWith("| … of it PgBouncer (CPU-s) | 0.21 | 0.21 |");
    expect(row("… of it Redis (CPU-s)")).toStartWith("| … of it Redis (CPU-s) | 0.08 | 0.08 |");
    expect(row("… of it Kafka (CPU-s)")).toStartWith("| … of it Kafka (CPU-s) | 0.20 | 0.20 |");
    // 1.3 − (0.62 + 0.21 + 0.08 + 0.2); Node's round 2 has 0.1 less left over, its median does not.
    expect(row("… of it the kernel's threads and everything else (CPU-s)")).toStartWith(
      "| … of it the kernel's threads and everything else (CPU-s) | 0.19 | 0.19 |",
    );
    const lines = md.split("\n");
    const at = (name: string) => lines.findIndex((l) => l.startsWith(`| ${name}`));
    expect(at("… of it PostgreSQL")).toBe(at("Rest: PostgreSQL") + 1);
  });

  test("a service not measured in every round has no row; results without the split have none", async () => {
    const partial = sampleResults();
    delete partial.flow[0]!.cpu!.stack_s!.kafka;
    const { md: some } = await renderApart(partial);
    expect(some).toContain("| … of it PostgreSQL (CPU-s) |");
    expect(some).not.toContain("… of it Kafka");
    const old = sampleResults();
    for (const f of old.flow) delete f.cpu!.stack_s;
    const { md: none } = await renderApart(old);
    expect(none).not.toContain("… of it PostgreSQL");
    expect(none).not.toContain("everything else");
  });

  test("results of a bench before the kernel's part was recorded: API CPU per request without the split", async () => {
    const old = sampleResults();
    for (const f of old.flow) delete f.cpu!.api_kernel_us_per_request;
    const { md: text } = await renderApart(old);
    expect(text).toContain("| API CPU per request (µs) |");
    expect(text).not.toContain("of it in the kernel");
    expect(text).toContain("of it on the runtime's helper threads");
    expect(text).not.toContain("NaN");
  });

  test("results of a bench before the helper threads were recorded: no split by thread", async () => {
    const old = sampleResults();
    delete old.flow[1]!.cpu!.api_helper_threads_us_per_request;
    const { md: text } = await renderApart(old);
    expect(text).toContain("of it in the kernel");
    expect(text).not.toContain("helper threads (µs)");
    expect(text).toContain("**As the targets warmed up.**");
    expect(text).not.toContain("NaN");
  });

  test("says what TCP did during the flows: medians and the range of each target's rounds", () => {
    const section = md.indexOf("## What TCP did during the flows");
    expect(section).toBeGreaterThan(md.indexOf("## Where the CPU went during the flows"));
    const row = (name: string) => md.split("\n").find((l) => l.startsWith(`| ${name}`));
    // Sample: Bun 8,901–8,903 cookies and no overflow; Node 417 overflows in round 1 only.
    expect(row("SYN cookies sent (handshakes)")).toBe("| SYN cookies sent (handshakes) | 8,902 | 0 | 8,901–8,903 | 0 |");
    expect(row("Listen queue overflows (handshakes)")).toBe("| Listen queue overflows (handshakes) | 0 | 0 | 0 | 0–417 |");
    expect(row("Segments sent again (segments)")).toBe("| Segments sent again (segments) | 2,420 | 42 | 2,410–2,430 | 41–43 |");
    expect(row("Segments sent (per request)")).toBe("| Segments sent (per request) | 6.20 | 4.80 | 6.20 | 4.80 |");
  });

  test("gives the API's CPU per request on each oha endpoint, both targets and their ratio", () => {
    const section = md.indexOf("## Single endpoints under oha");
    const table = md.indexOf("| Endpoint | Bun (µs) | Node (µs) | Bun/Node | Ratio range |", section);
    expect(table).toBeGreaterThan(section);
    const cpuOf = (t: Target, ep: string) =>
      median(results.oha.filter((o) => o.target === t && o.endpoint === ep).map((o) => o.api_cpu_us_per_request!));
    const row = md
      .slice(table)
      .split("\n")
      .find((l) => l.startsWith("| GET /health |"))!;
    expect(row).toStartWith(`| GET /health | ${int(cpuOf("bun", "/health"))} | ${int(cpuOf("node", "/health"))} |`);
  });

  test("results of a bench before oha's API CPU was recorded: no such table", async () => {
    const old = sampleResults();
    for (const o of old.oha) delete o.api_cpu_us_per_request;
    const { md: text } = await renderApart(old);
    expect(text).toContain("## Single endpoints under oha");
    expect(text).toContain("| GET /api/v1/workflows/{id} |");
    expect(text).not.toContain("The API's CPU per request on each endpoint");
    expect(text).not.toContain("NaN");
  });

  test("results of a bench before TCP was recorded: no TCP section", async () => {
    const old = sampleResults();
    for (const f of old.flow) delete f.tcp;
    const { md: text } = await renderApart(old);
    expect(text).toContain("## Where the CPU went during the flows");
    expect(text).not.toContain("What TCP did");
  });

  test("shows the API's CPU per request in each warm-up and in the measured flow, and warm-up failures", () => {
    const section = md.indexOf("**As the targets warmed up.**");
    expect(section).toBeGreaterThan(md.indexOf("## Where the CPU went during the flows"));
    expect(md).toContain("served 2 unrecorded warm-up flow(s) of 10,000 users");
    const perRequest = (t: Target, k: number) =>
      median(results.warmups!.filter((w) => w.target === t && w.index === k).map((w) => w.api_us_per_request));
    const rowOf = (label: string) =>
      md
        .slice(section)
        .split("\n")
        .find((l) => l.startsWith(`| ${label} |`))!;
    expect(rowOf("Warm-up 1")).toStartWith(`| Warm-up 1 | ${int(perRequest("bun", 1))} | ${int(perRequest("node", 1))} |`);
    expect(rowOf("Warm-up 2")).toStartWith(`| Warm-up 2 | ${int(perRequest("bun", 2))} | ${int(perRequest("node", 2))} |`);
    const measured = (t: Target) => median(of(t).map((f) => f.cpu!.api_us_per_request));
    expect(rowOf("Measured flow")).toStartWith(`| Measured flow | ${int(measured("bun"))} | ${int(measured("node"))} |`);
    expect(md).toContain("Warm-up requests failed: Node round 3 warm-up 1: 4.");
    // The helper threads' part, in a second table of the same steps.
    const helpers = md.indexOf("| … on helper threads (µs) |", section);
    expect(helpers).toBeGreaterThan(section);
    const helperRow = (label: string) =>
      md
        .slice(helpers)
        .split("\n")
        .find((l) => l.startsWith(`| ${label} |`))!;
    const helperOf = (t: Target, k: number) =>
      median(results.warmups!.filter((w) => w.target === t && w.index === k).map((w) => w.api_helper_threads_us_per_request!));
    expect(helperRow("Warm-up 1")).toStartWith(`| Warm-up 1 | ${int(helperOf("bun", 1))} | ${int(helperOf("node", 1))} |`);
    const measuredHelpers = (t: Target) => median(of(t).map((f) => f.cpu!.api_helper_threads_us_per_request!));
    expect(helperRow("Measured flow")).toStartWith(`| Measured flow | ${int(measuredHelpers("bun"))} | ${int(measuredHelpers("node"))} |`);
  });

  test("puts the headline figures against the baseline: this run, the baseline, the change, worse in bold", () => {
    const section = md.slice(md.indexOf("## Against the baseline"), md.indexOf("## Targets"));
    expect(md.indexOf("## Against the baseline")).toBeGreaterThan(md.indexOf("## Headline"));
    expect(section).toContain("the run of 2026-11-22T08:00:00.000Z on `0000000`");
    expect(section).toContain("| Figure | This run | Baseline | Change | Direction |");
    const bunRps = median(of("bun").map((f) => f.throughput_rps));
    const change = ((Math.round(bunRps * 100) / 100 - 5200) / 5200) * 100;
    expect(section).toContain(`| Bun throughput (req/s) | ${rps(bunRps)} | 5,200.0 | ${change.toFixed(1)}% | **worse** |`);
    expect(section).toContain("| Bun failed requests | 0 | 0 | 0.0% | same |");
    expect(section).toMatch(/\| Bun\/Node throughput \| \d\.\d\d× \| 4\.10× \| -\d+\.\d% \| \*\*worse\*\* \|/);
    expect(section).not.toContain("Not like for like");
  });

  test("without a baseline, the section says so in one line", async () => {
    const { md: text } = await renderApart({ ...sampleResults(), baseline: undefined });
    const section = text.slice(text.indexOf("## Against the baseline"), text.indexOf("## Targets")).trim().split("\n\n");
    expect(section).toEqual([
      "## Against the baseline",
      "No baseline of the 10k scenario (`bench/baselines/10k.json`) was recorded with these results, so there is nothing to compare with.",
    ]);
  });

  test("names the commit the run measured, where the results record it", async () => {
    expect(md).not.toContain("| Commit |");
    const { md: text } = await renderApart({ ...sampleResults(), commit: "abc1234+dirty" });
    expect(text).toContain("| Commit | `abc1234+dirty` |");
  });

  test("lists the targets exactly as given, ✅ met and ❌ not met", () => {
    for (const t of results.targets)
      expect(md).toContain(`| ${t.met ? "✅ met" : "❌ not met"} | ${t.name} | ${t.threshold} | ${t.value} |`);
    expect(md).toContain("not met");
    const met = results.targets.filter((t) => t.met).length;
    expect(md).toContain(`**${met} of ${results.targets.length}** targets met`);
  });

  test("labels the reference rows as published by the original reports, on other hardware", () => {
    for (const r of results.reference) {
      const line = md.split("\n").find((l) => l.startsWith(`| ${r.label} |`));
      expect(line).toContain("published by the original reports, on other hardware");
      expect(line).toContain(rps(r.throughput_rps));
    }
    expect(md).toContain("| Bun (median of 3 rounds) | here, this run |");
  });

  test("has the per-endpoint tables, errors, oha, audit problems, machine and notes", () => {
    for (const ep of [
      "GET /health",
      "GET /",
      "POST /api/v1/workflows",
      "GET /api/v1/workflows/{id}",
      "POST /api/v1/trigger",
      "GET /api/v1/runs/{id}",
      "GET /api/v1/runs",
    ])
      expect(md.split("\n").filter((l) => l.startsWith(`| ${ep} |`)).length).toBeGreaterThanOrEqual(2);
    expect(md).toContain("### Bun (3 rounds)");
    expect(md).toContain("### Node (3 rounds)");
    expect(md).toContain("| connection reset / server disconnected | 0 |");
    expect(md).toContain("| HTTP 503 |");
    expect(md).toMatch(/\| GET \/health \| [\d,.]+ \| [\d,.]+ \| \d\.\d\d× \|/);
    expect(md).toContain("❌ failed");
    expect(md).toContain("**5 of 6** audits passed");
    expect(md).toContain("- Node, round 2: 3 accepted runs are still pending after 60 s");
    expect(md).toContain("| Cores | 2 |");
    expect(md).toContain("| `kafka` | 4.1.0 |");
    expect(md).toContain("- SYNTHETIC DATA");
  });
});

/** Renders `r` into a folder of its own and returns both files' text. */
async function renderApart(r: BenchResults): Promise<{ md: string; html: string }> {
  const d = mkdtempSync(join(tmpdir(), "wf-report-"));
  try {
    await renderReport(r, d);
    return { md: await Bun.file(join(d, "report.md")).text(), html: await Bun.file(join(d, "report.html")).text() };
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

describe("partial results", () => {
  test("Bun alone: no ratio, said so, and nothing breaks", async () => {
    const only = { ...sampleResults(), oha: [], audit: [] } as BenchResults;
    only.flow = only.flow.filter((f) => f.target === "bun");
    const { md: text } = await renderApart(only);
    expect(text).toContain("Only Bun was measured, so there is no ratio.");
    expect(text).toContain("## Where the CPU went during the flows");
    expect(text).toContain("oha was not run in this benchmark.");
    expect(text).toContain("No audit was run.");
    expect(text).not.toContain("NaN");
    expect(text).not.toContain("undefined");
  });

  test("results of a bench before CPU was recorded: no CPU section", async () => {
    const old = sampleResults();
    for (const f of old.flow) delete f.cpu;
    delete old.warmups;
    const { md: text } = await renderApart(old);
    expect(text).toContain("## Headline");
    expect(text).not.toContain("Where the CPU went");
    expect(text).not.toContain("warmed up");
  });

  test("no flow runs at all", async () => {
    const empty = { ...sampleResults(), flow: [], oha: [], audit: [], targets: [] } as BenchResults;
    const { md: text, html: page } = await renderApart(empty);
    expect(text).toContain("No flow runs are in these results.");
    expect(text).not.toContain("NaN");
    expect(page).toContain("No flow runs are in these results.");
  });
});

describe("report.html", () => {
  test("has the same content as report.md", () => {
    const bunRps = median(results.flow.filter((f) => f.target === "bun").map((f) => f.throughput_rps));
    expect(html).toContain(rps(bunRps));
    expect(html).toContain(`<td class="bad">✗ not met</td>`);
    expect(html).toContain(`<td class="ok">✓ met</td>`);
    expect(html).toContain("published by the original reports, on other hardware");
    expect(html).toContain("3 accepted runs are still pending after 60 s");
  });

  test("is self-contained: no script, link, img or iframe loads anything from http(s)", () => {
    const remote = [...html.matchAll(/<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//gi)];
    expect(remote.map((m) => m[0])).toEqual([]);
    expect(html).not.toMatch(/<script[^>]*\bsrc=/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).toContain("Chart.js v4"); // the library is inlined
  });

  test("draws its charts in headless Chromium with every non-file request refused", async () => {
    const profile = mkdtempSync(join(tmpdir(), "wf-chromium-"));
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const external: string[] = [];
      await browser.route("**/*", (route) => {
        const u = route.request().url();
        if (u.startsWith("file:") || u.startsWith("data:")) return route.continue();
        external.push(u);
        return route.abort();
      });
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      await page.goto(pathToFileURL(join(dir, "report.html")).href);
      await page.waitForSelector("body[data-charts]", { timeout: 20_000 });
      const state = await page.evaluate(() => {
        const canvases = [...document.querySelectorAll("canvas")];
        return {
          drawn: document.body.getAttribute("data-charts"),
          canvases: canvases.map((c) => {
            const r = c.getBoundingClientRect();
            const ctx = c.getContext("2d")!;
            const px = ctx.getImageData(0, 0, c.width, c.height).data;
            let painted = 0;
            for (let i = 3; i < px.length; i += 4) if (px[i]! > 0) painted++;
            return { id: c.id, width: r.width, height: r.height, painted };
          }),
        };
      });
      expect(state.canvases.length).toBeGreaterThanOrEqual(6);
      expect(state.drawn).toBe(`${state.canvases.length}/${state.canvases.length}`);
      for (const c of state.canvases) {
        expect(c.width, c.id).toBeGreaterThan(200);
        expect(c.height, c.id).toBeGreaterThan(100);
        expect(c.painted, c.id).toBeGreaterThan(1000);
      }
      expect(state.canvases.map((c) => c.id)).toEqual(
        expect.arrayContaining([
          "headline-throughput",
          "headline-latency",
          "reference-throughput",
          "timeline",
          "endpoint-latency",
          "histogram",
        ]),
      );
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(errors).toEqual([]);
      expect(external).toEqual([]);
    } finally {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }, 60_000);
});
