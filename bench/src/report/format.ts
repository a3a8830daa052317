/** Number formatting shared by report.md and report.html: one look for every figure. */

const grouped = (v: number, decimals: number): string =>
  v.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });

const finite = (v: number | null | undefined): v is number => typeof v === "number" && Number.isFinite(v);

export const DASH = "—";

/** A count: 12,345. */
export const int = (v: number | null | undefined): string => (finite(v) ? grouped(Math.round(v), 0) : DASH);

/** Milliseconds: 1 decimal from 10 ms up (1,076.0), 2 decimals below (0.84). */
export const ms = (v: number | null | undefined): string => (finite(v) ? grouped(v, Math.abs(v) >= 10 ? 1 : 2) : DASH);

/** Requests per second: 4,016.8. */
export const rps = (v: number | null | undefined): string => (finite(v) ? grouped(v, 1) : DASH);

/** Seconds, and other figures shown with 2 decimals (1.74, 106.33). */
export const sec = (v: number | null | undefined): string => (finite(v) ? grouped(v, 2) : DASH);

/** A percentage given in percent: 0%, 0.05%, 8.89%, 21.1%. */
export function pct(v: number | null | undefined): string {
  if (!finite(v)) return DASH;
  if (v === 0) return "0%";
  return `${grouped(v, Math.abs(v) >= 10 ? 1 : 2)}%`;
}

/** A ratio: 2.35×. */
export const ratio = (v: number | null | undefined): string => (finite(v) ? `${grouped(v, 2)}×` : DASH);

/** A figure in the unit it is measured in. */
export function inUnit(v: number | null | undefined, unit: string): string {
  switch (unit) {
    case "ms":
      return ms(v);
    case "req/s":
      return rps(v);
    case "s":
    case "per request":
      return sec(v);
    case "%":
      return pct(v);
    default:
      return int(v);
  }
}

/** `min–max` of several values in one unit; a single value when they are all equal. */
export function range(values: number[], unit: string): string {
  const xs = values.filter(finite);
  if (xs.length === 0) return DASH;
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return lo === hi ? inUnit(lo, unit) : `${inUnit(lo, unit)}–${inUnit(hi, unit)}`;
}

/** Median of the finite values; NaN for none. */
export function median(values: number[]): number {
  const s = values.filter(finite).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
