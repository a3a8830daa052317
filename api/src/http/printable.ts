/**
 * Elysia 1.4 words a type mismatch as `… but found: ${value}`. For an object whose own `toString`
 * key holds data (`{"toString": "x"}` is valid JSON, and fine as a trigger's input) that string
 * conversion throws a TypeError inside Elysia, and a 422 became a 500. Such objects get a
 * non-enumerable Symbol.toPrimitive, which string conversion prefers and nothing else sees:
 * JSON.stringify, Object.keys/entries, structuredClone and the schema checks read string keys only.
 */
const PRINTABLE: PropertyDescriptor = { value: () => "[object Object]", enumerable: false };

/** Only text that can spell the key (literally or through \u escapes) needs the walk. */
export const mayHoldToString = (text: string): boolean => text.includes("toString") || text.includes("\\u");

/** Marks every object of a parsed JSON value that owns a `toString` key; walks without recursion. */
export function makePrintable<T>(value: T): T {
  const todo: unknown[] = [value];
  while (todo.length > 0) {
    const v = todo.pop();
    if (v === null || typeof v !== "object") continue;
    if (Array.isArray(v)) todo.push(...v);
    else {
      if (Object.hasOwn(v, "toString")) Object.defineProperty(v, Symbol.toPrimitive, PRINTABLE);
      todo.push(...Object.values(v));
    }
  }
  return value;
}
