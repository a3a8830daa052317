/**
 * JSON-lines logger. Small on purpose: one line per event, level from LOG_LEVEL, fields merged in.
 * Request bodies and secrets are never passed to it.
 */
export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level | "silent", number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export type Logger = Record<Level, (msg: string, fields?: Record<string, unknown>) => void> & {
  child(fields: Record<string, unknown>): Logger;
};

/** Where lines go: stderr for warn and error, stdout for the rest (tests pass their own). */
export type Sink = (level: Level, line: string) => void;
const stdio: Sink = (lvl, line) => void (lvl === "error" || lvl === "warn" ? process.stderr : process.stdout).write(`${line}\n`);

export function createLogger(level: Level | "silent", base: Record<string, unknown> = {}, sink: Sink = stdio): Logger {
  const min = ORDER[level];
  const emit = (lvl: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return;
    const line = JSON.stringify({ ts: new Date().toISOString(), level: lvl, msg, ...base, ...fields });
    sink(lvl, line);
  };
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    child: (fields) => createLogger(level, { ...base, ...fields }, sink),
  };
}

export const errorFields = (err: unknown): Record<string, unknown> =>
  err instanceof Error ? { error: err.message, error_type: err.name } : { error: String(err) };
