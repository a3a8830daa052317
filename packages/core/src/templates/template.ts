/**
 * `{{input.a.b}}`, `{{steps.<name>.<field>...}}`, inside a `for_each` step `{{item...}}` and
 * `{{index}}`, and `{{secrets.NAME}}` (an http step's url, headers and body only) placeholders.
 * Parsing lives in the domain so the API can reject a bad reference at create time and the worker
 * renders exactly what was accepted.
 */
// No `\s*` around the lazy group: with both, "{{" followed by thousands of spaces and no "}}"
// backtracked cubically (10,000 spaces blocked the event loop for over 100 s). The inner text is
// trimmed in code instead, which accepts exactly the same placeholders.
const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;
const WHOLE = /^\{\{([^{}]*)\}\}$/;
// `index` is a number: it has no path. A secret is one name, as SECRET_NAME spells it.
const PATH = /^(?:(input|steps|item)((?:\.[A-Za-z0-9_-]+)*)|(index)|secrets\.([A-Z][A-Z0-9_]{0,63}))$/;

/** What a secret may be named: upper-case letters, digits and `_`, a letter first, at most 64 characters. */
export const SECRET_NAME_PATTERN = "^[A-Z][A-Z0-9_]{0,63}$";
const SECRET_NAME = new RegExp(SECRET_NAME_PATTERN);
export const isSecretName = (v: unknown): v is string => typeof v === "string" && SECRET_NAME.test(v);

export type Root = "input" | "steps" | "item" | "index" | "secrets";

export interface Reference {
  root: Root;
  /** Path segments after the root. */
  path: string[];
  raw: string;
}

/** Every placeholder in a string; `error` is set for one that is not a readable path. */
export function references(text: string): Array<Reference | { error: string; raw: string }> {
  const out: Array<Reference | { error: string; raw: string }> = [];
  for (const m of text.matchAll(PLACEHOLDER)) {
    const expr = (m[1] ?? "").trim();
    const p = PATH.exec(expr);
    if (!p && /^secrets(?:\.|$)/.test(expr)) {
      out.push({ raw: m[0], error: `placeholder ${m[0]} must read secrets.<NAME>, NAME matching ${SECRET_NAME_PATTERN}` });
      continue;
    }
    if (!p) {
      out.push({ raw: m[0], error: `placeholder ${m[0]} must read input.<path>, steps.<name>.<path>, item.<path> or index` });
      continue;
    }
    if (p[3]) out.push({ root: "index", path: [], raw: m[0] });
    else if (p[4]) out.push({ root: "secrets", path: [p[4]], raw: m[0] });
    else out.push({ root: p[1] as Root, path: (p[2] ?? "").split(".").filter(Boolean), raw: m[0] });
  }
  return out;
}

/** All strings inside a JSON value, with their JSON-pointer-like paths. */
export function* stringsIn(value: unknown, path: string): Generator<[string, string]> {
  if (typeof value === "string") yield [path, value];
  else if (Array.isArray(value)) for (let i = 0; i < value.length; i++) yield* stringsIn(value[i], `${path}/${i}`);
  else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) yield* stringsIn(v, `${path}/${k}`);
}

/**
 * What placeholders read; `item` and `index` only while rendering one item of a `for_each` step,
 * `secrets` only while a worker renders an http step's request (absent, a secret renders as nothing).
 */
export type Scope = { input: unknown; steps: Record<string, unknown>; item?: unknown; index?: number; secrets?: Record<string, string> };

/**
 * Own properties only: `{{input.__proto__}}` or `{{steps.x.constructor}}` must read data the run
 * holds, never Object.prototype or a constructor function.
 */
function lookup(scope: Scope, ref: Reference): unknown {
  let cur: unknown = scope[ref.root];
  for (const seg of ref.path) {
    if (cur === null || typeof cur !== "object" || !Object.hasOwn(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/**
 * Renders placeholders in a string. A string that is exactly one placeholder takes the referenced
 * value with its JSON type (so `"{{steps.fetch.body}}"` yields an object); otherwise values are
 * interpolated as text, objects as JSON, missing values as the empty string.
 */
export function render(text: string, scope: Scope): unknown {
  if (WHOLE.test(text)) {
    const ref = references(text)[0];
    return ref && "root" in ref ? (lookup(scope, ref) ?? null) : text;
  }
  return text.replace(PLACEHOLDER, (raw) => {
    const ref = references(raw)[0];
    if (!ref || !("root" in ref)) return raw;
    const v = lookup(scope, ref);
    if (v === undefined || v === null) return "";
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  });
}

/** Renders every string inside a JSON value. */
export function renderDeep(value: unknown, scope: Scope): unknown {
  if (typeof value === "string") return render(value, scope);
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, scope));
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(v, scope)]));
  return value;
}
