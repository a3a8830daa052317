/** How a comparison with the baseline is written, the same in the report and on the console. */
import { inUnit, ratio } from "../report/format.ts";
import type { BaselineRow } from "./against.ts";

/** A figure of this run or of the baseline, in its unit's format (the ratio as 1.12×). */
export const baselineValue = (v: number, unit: string): string => (unit === "×" ? ratio(v) : inUnit(v, unit));

/** The change in percent with its sign, one decimal: +2.8%, -4.5%, 0.0%; "from 0" when the baseline was 0. */
export function changeText(row: BaselineRow): string {
  if (row.changePct === null) return "from 0";
  if (Math.abs(row.changePct) < 0.05) return "0.0%";
  return `${row.changePct > 0 ? "+" : ""}${row.changePct.toFixed(1)}%`;
}

/** A row's figure with its unit, as the report's tables name figures; a count and a ratio need none. */
export const figureName = (row: BaselineRow): string =>
  row.unit === "×" || row.unit === "count" ? row.figure : `${row.figure} (${row.unit})`;
