import { int } from "@wf/platform/config";

/** Thrown for a bench option or variable that is not what it must be; the message says which and why. */
export class OptionError extends Error {}

/**
 * A whole-number option (a flag or an environment variable) checked with the service's own reader:
 * `Number("")` is 0 and `Number("ten")` NaN, which would otherwise reach the flow as a bench of
 * nobody or of no rounds, and be reported as if it had measured something.
 */
export function intOption(name: string, raw: string, min: number, max: number): number {
  const r = int(min, max)(raw);
  if (!r.ok) throw new OptionError(`${name} must be ${r.expected}, got ${JSON.stringify(raw)}`);
  return r.value;
}

/** The options `read` returns, or, when one is wrong, its message on stderr and exit code 2. */
export function optionsOrExit<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof OptionError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
}
