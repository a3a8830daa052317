import { availableParallelism } from "node:os";

/**
 * Typed readers for environment variables. Each reader returns the parsed value or a message
 * that names what was expected; `loadConfig` collects every message so a misconfigured process
 * reports all its bad variables at once instead of one per restart.
 */
export type Reader<T> = (raw: string) => { ok: true; value: T } | { ok: false; expected: string };

export const int =
  (min: number, max: number): Reader<number> =>
  (raw) => {
    const n = Number(raw);
    return /^-?\d+$/.test(raw.trim()) && Number.isSafeInteger(n) && n >= min && n <= max
      ? { ok: true, value: n }
      : { ok: false, expected: `an integer from ${min} to ${max}` };
  };

export const bool: Reader<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return { ok: true, value: true };
  if (["0", "false", "no", "off"].includes(v)) return { ok: true, value: false };
  return { ok: false, expected: "true or false" };
};

export const str =
  (minLength = 1): Reader<string> =>
  (raw) =>
    raw.length >= minLength ? { ok: true, value: raw } : { ok: false, expected: `a string of at least ${minLength} characters` };

export const url =
  (...protocols: string[]): Reader<string> =>
  (raw) => {
    try {
      const u = new URL(raw);
      if (protocols.includes(u.protocol)) return { ok: true, value: raw };
    } catch {
      /* reported below */
    }
    return { ok: false, expected: `a URL with scheme ${protocols.join(" or ")}` };
  };

/** For a setting whose empty value means "feature off": "" is accepted as is, anything else must pass `read`. */
export const orEmpty =
  <T>(read: Reader<T>): Reader<T | ""> =>
  (raw) => {
    if (raw === "") return { ok: true, value: "" };
    const r = read(raw);
    return r.ok ? r : { ok: false, expected: `${r.expected}, or nothing` };
  };

export const oneOf =
  <const T extends string>(...values: T[]): Reader<T> =>
  (raw) =>
    (values as string[]).includes(raw) ? { ok: true, value: raw as T } : { ok: false, expected: `one of ${values.join(", ")}` };

export const list =
  <T>(item: Reader<T>, minItems = 0): Reader<T[]> =>
  (raw) => {
    const parts = raw
      .split(",")
      .map((p) => p.trim())
      .filter((p) => p.length > 0);
    const out: T[] = [];
    for (const p of parts) {
      const r = item(p);
      if (!r.ok) return { ok: false, expected: `a comma-separated list of ${r.expected}` };
      out.push(r.value);
    }
    return out.length >= minItems ? { ok: true, value: out } : { ok: false, expected: `a list of at least ${minItems} item(s)` };
  };

export const hostPort: Reader<string> = (raw) =>
  /^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(raw) ? { ok: true, value: raw } : { ok: false, expected: "host:port" };

/** A count that may be "auto": the number of cores this process may use. */
export const countOrAuto =
  (max: number): Reader<number> =>
  (raw) => {
    if (raw.trim().toLowerCase() === "auto") return { ok: true, value: availableParallelism() };
    const r = int(1, max)(raw);
    return r.ok ? r : { ok: false, expected: `"auto" or ${r.expected}` };
  };
