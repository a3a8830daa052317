/** bench/baselines/<scenario>.json: where a scenario's baseline is kept, read and written. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Baseline } from "./baseline.ts";

export const BASELINES_DIR = join(import.meta.dir, "../../baselines");

export const baselinePath = (scenario: string, dir = BASELINES_DIR): string => join(dir, `${scenario}.json`);

/** A scenario's baseline; or that it has none; or why its file could not be used. */
export type BaselineRead = { ok: true; baseline: Baseline; path: string } | { ok: false; path: string; reason: string };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Enough of a Baseline's shape for the comparison to read it; a file edited by hand may lack some. */
export function isBaseline(v: unknown): v is Baseline {
  return isRecord(v) && typeof v.scenario === "string" && typeof v.date === "string" && isRecord(v.targets) && isRecord(v.machine);
}

/** Never throws: a bench that measured for minutes must not fail over its baseline. */
export function readBaseline(scenario: string, dir = BASELINES_DIR): BaselineRead {
  const path = baselinePath(scenario, dir);
  if (!existsSync(path)) return { ok: false, path, reason: "no baseline" };
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    return { ok: false, path, reason: `not valid JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  if (!isBaseline(data)) return { ok: false, path, reason: "not a baseline (no scenario, date, machine or targets)" };
  if (data.scenario !== scenario) return { ok: false, path, reason: `a baseline of scenario ${data.scenario}, not ${scenario}` };
  return { ok: true, baseline: data, path };
}

export function writeBaseline(baseline: Baseline, dir = BASELINES_DIR): string {
  mkdirSync(dir, { recursive: true });
  const path = baselinePath(baseline.scenario, dir);
  writeFileSync(path, `${JSON.stringify(baseline, null, 2)}\n`);
  return path;
}
