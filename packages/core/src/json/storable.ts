import type { FieldError } from "../errors.ts";

/**
 * What a client's JSON may hold for PostgreSQL to store it unchanged. `text` refuses NUL, `jsonb`
 * refuses `\u0000` and unpaired surrogate escapes (both were 500s), and the driver would silently
 * turn an unpaired surrogate in a `text` value into U+FFFD; a number beyond a double (1e309)
 * parses as Infinity and would be stored as null. Each is the client's mistake, so a 422.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what PostgreSQL cannot store in text
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export const isStorableText = (s: string): boolean => !UNSTORABLE.test(s);
export const UNSTORABLE_TEXT = "must not contain NUL characters or unpaired UTF-16 surrogates";

export interface JsonRules {
  /** Longest string value or object key, in UTF-16 code units; unlimited when absent. */
  maxStringLength?: number;
}

// A hostile body can hold thousands of bad strings; the answer names the first few.
const MAX_REPORTED = 20;

/**
 * Problems of the strings, keys and numbers inside a parsed JSON value, with their paths. Walks
 * with an explicit stack, so no nesting depth can exhaust the call stack.
 */
export function jsonValueProblems(value: unknown, at: string, rules: JsonRules = {}): FieldError[] {
  const errs: FieldError[] = [];
  const max = rules.maxStringLength ?? Infinity;
  const checkText = (s: string, path: string, what: string): boolean => {
    if (!isStorableText(s)) errs.push({ path, message: `${what} ${UNSTORABLE_TEXT}` });
    else if (s.length > max) errs.push({ path, message: `${what} must be at most ${max} characters long` });
    else return true;
    return false;
  };
  const todo: Array<[unknown, string]> = [[value, at]];
  while (todo.length > 0 && errs.length < MAX_REPORTED) {
    const [v, path] = todo.pop()!;
    if (typeof v === "string") checkText(v, path, "strings");
    else if (typeof v === "number") {
      if (!Number.isFinite(v)) errs.push({ path, message: "numbers must be within the range of a double" });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) todo.push([v[i], `${path}/${i}`]);
    } else if (v !== null && typeof v === "object") {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, child] = entries[i]!;
        // A bad key is reported at its object: a path holding the key itself would be just as bad.
        if (checkText(k, path, "keys")) todo.push([child, `${path}/${k}`]);
      }
    }
  }
  return errs.slice(0, MAX_REPORTED);
}

/** Size of a value as stored: the UTF-8 bytes of its JSON. */
export const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? "", "utf8");

const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, "g");

/** Text from outside (a server's answer) made storable: U+FFFD in place of each NUL or unpaired surrogate. */
export const toStorableText = (s: string): string => (isStorableText(s) ? s : s.replace(UNSTORABLE_ALL, "\ufffd"));

/**
 * A parsed JSON value from outside (an http step's answer) made storable: each string and key
 * through toStorableText, so an answer can never make a run's write fail. Undefined when it nests
 * deeper than `maxDepth`: the caller keeps such an answer as text, which nothing walks.
 */
export function toStorableJson(value: unknown, maxDepth: number): unknown {
  const copy = (v: unknown, depth: number): unknown => {
    if (typeof v === "string") return toStorableText(v);
    if (v === null || typeof v !== "object") return v;
    if (depth >= maxDepth) throw TOO_DEEP;
    if (Array.isArray(v)) return v.map((item) => copy(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(v)) out[toStorableText(k)] = copy(item, depth + 1);
    return out;
  };
  try {
    return copy(value, 0);
  } catch (err) {
    if (err === TOO_DEEP) return undefined;
    throw err;
  }
}
const TOO_DEEP = new Error("nested too deep");
