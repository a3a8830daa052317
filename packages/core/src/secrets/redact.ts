/** What a secret's value is replaced with wherever it would be stored or shown. */
export const REDACTED = "[redacted]";

/** The most bytes a secret's value may have (UTF-8). */
export const MAX_SECRET_VALUE_BYTES = 16_384;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The forms a value takes on its way out and back: as is, percent-encoded as a URL, a query or a
 * form carries it, escaped inside JSON text, and lower-cased (a URL's host name is). A server that transforms it otherwise (hashes,
 * base64, reverses it) is not recognised: what the step sends is the workflow author's choice.
 */
function spellings(value: string): string[] {
  const out = new Set([value]);
  const tries = [
    () => encodeURIComponent(value),
    () => encodeURI(value),
    () => new URLSearchParams({ v: value }).toString().slice(2),
    () => new URL(`http://h/?${value}`).search.slice(1),
    () => new URL(`http://h/${value}`).pathname.slice(1),
    () => JSON.stringify(value).slice(1, -1),
    () => value.toLowerCase(),
    () => new URL(`http://${value}/`).hostname,
  ];
  for (const t of tries) {
    try {
      out.add(t());
    } catch {
      /* a form this value has not */
    }
  }
  return [...out].filter((s) => s.length > 0);
}

/** Replaces every occurrence of the values (in any of their spellings) in strings and object keys, deeply. */
export interface Redactor {
  text(s: string): string;
  value<T>(v: T): T;
}

export function redactor(values: Iterable<string>): Redactor {
  // Longest first, in one pass: a value inside another is not left half replaced.
  const all = [...new Set([...values].filter((v) => v.length > 0).flatMap(spellings))].sort((a, b) => b.length - a.length);
  if (all.length === 0) return { text: (s) => s, value: (v) => v };
  const pattern = new RegExp(all.map(escapeRegExp).join("|"), "g");
  const text = (s: string) => s.replace(pattern, REDACTED);
  const deep = (v: unknown): unknown => {
    if (typeof v === "string") return text(v);
    if (Array.isArray(v)) return v.map(deep);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), deep(x)]));
    return v;
  };
  return { text, value: <T>(v: T) => deep(v) as T };
}
