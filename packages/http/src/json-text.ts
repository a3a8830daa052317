import { jsonTooDeep, malformedJson } from "./http-error.ts";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * Whether JSON text nests arrays and objects deeper than `max`, found by one scan of the text
 * (brackets inside strings do not count), before anything is parsed: later stages (schema
 * validation, JSON.stringify towards PostgreSQL and Redis) recurse, and Bun's JSON.stringify
 * throws a RangeError past a few thousand levels, which was a 500.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return false;
}

/**
 * A request body's JSON, parsed the same way by both servers: one leading byte order mark is
 * ignored (RFC 8259 allows it; Bun's decoder dropped it while Node's kept it, so the two answered
 * 201 and 400), nesting beyond `maxDepth` is a 400, and so is text that does not parse.
 */
export function parseJsonBody(text: string, maxDepth: number): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (nestsDeeperThan(body, maxDepth)) throw jsonTooDeep(maxDepth);
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw malformedJson();
  }
}
