import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { microCases } from "./cases.ts";
import { type MicroSummary, runMicro } from "./run.ts";

const dir = mkdtempSync(`${tmpdir()}/wf-micro-`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("micro benchmarks", () => {
  test("every case runs on the real code and returns what its name says", async () => {
    const cases = microCases();
    expect(cases.length).toBeGreaterThanOrEqual(20);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    for (const c of cases) {
      const r = await c.fn();
      expect({ name: c.name, ok: c.check(r) }).toEqual({ name: c.name, ok: true });
    }
  });

  test("one benchmark through mitata, in process, with its JSON summary", async () => {
    const { summary, file } = await runMicro({ filter: /^decode, tampered$/, outDir: dir });
    expect(summary.benchmarks.map((b) => b.name)).toEqual(["decode, tampered"]);
    const b = summary.benchmarks[0]!;
    expect(b.group).toBe("pagination cursor (HMAC-signed)");
    expect(b.avg_ns).toBeGreaterThan(0);
    expect(b.p99_ns).toBeGreaterThanOrEqual(b.p75_ns);
    expect(b.samples).toBeGreaterThan(0);
    expect(file).toMatch(/micro-\d{4}-\d\d-\d\dT[\d-]+Z\.json$/);
    expect(existsSync(file!)).toBe(true);
    const saved = (await Bun.file(file!).json()) as MicroSummary;
    expect(saved.benchmarks).toEqual(summary.benchmarks);
    expect(saved.machine.cores).toBeGreaterThan(0);
    expect(saved.versions.mitata).toMatch(/^\d+\.\d+\.\d+/);
  }, 30_000);

  test("a filter that matches nothing is an error, not an empty run", async () => {
    await expect(runMicro({ filter: /no such benchmark/, outDir: null })).rejects.toThrow("no micro benchmark matches");
  });
});
