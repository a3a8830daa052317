import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sampleResults } from "../report/sample.ts";
import { extractBaseline } from "./baseline.ts";
import { BASELINES_DIR, readBaseline, writeBaseline } from "./file.ts";

const dir = mkdtempSync(join(tmpdir(), "wf-baseline-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("baseline files", () => {
  test("live in bench/baselines/, one per scenario", () => {
    expect(BASELINES_DIR.endsWith(join("bench", "baselines"))).toBe(true);
  });

  test("a written baseline reads back the same", () => {
    const b = extractBaseline(sampleResults(), "abc1234");
    expect(writeBaseline(b, dir)).toBe(join(dir, "10k.json"));
    expect(readBaseline("10k", dir)).toEqual({ ok: true, baseline: b, path: join(dir, "10k.json") });
  });

  test("a missing, broken or foreign file is reported, not thrown", () => {
    expect(readBaseline("default", dir)).toEqual({ ok: false, path: join(dir, "default.json"), reason: "no baseline" });
    writeFileSync(join(dir, "1k.json"), "{ not json");
    expect(readBaseline("1k", dir)).toMatchObject({ ok: false, reason: expect.stringMatching(/^not valid JSON/) });
    writeFileSync(join(dir, "1k.json"), JSON.stringify({ scenario: "1k" }));
    expect(readBaseline("1k", dir)).toMatchObject({ ok: false, reason: expect.stringMatching(/^not a baseline/) });
    writeFileSync(join(dir, "1k.json"), JSON.stringify({ ...extractBaseline(sampleResults()), scenario: "10k" }));
    expect(readBaseline("1k", dir)).toMatchObject({ ok: false, reason: "a baseline of scenario 10k, not 1k" });
  });

  test("the baselines kept in the tree are readable, and small", async () => {
    for (const scenario of ["1k", "10k"]) {
      const read = readBaseline(scenario);
      expect(read.ok).toBe(true);
      expect((await Bun.file(read.path).text()).length).toBeLessThan(4_096);
    }
  });
});
