/** Helpers of tests/infra: YAML, Compose interpolation, JSON-schema validators, PromQL names. */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import AjvDraft7 from "ajv";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

export const ROOT = join(import.meta.dir, "../..");
export const SCHEMAS = join(import.meta.dir, "schemas");
export const read = (rel: string) => readFileSync(join(ROOT, rel), "utf8");

/**
 * Every YAML document of a file (Bun's YAML 1.2 parser; anchors and merge keys resolved). Bun
 * returns an array for a multi-document file; none of these files has a top-level sequence.
 */
export function yamlDocs(rel: string): any[] {
  const parsed = Bun.YAML.parse(read(rel));
  return (Array.isArray(parsed) ? parsed : [parsed]).filter((d) => d !== null && d !== undefined);
}

/**
 * Compose interpolation as `docker compose config` does it with no variable set: `${VAR:-default}`
 * and `${VAR-default}` take the default, `$$` is a literal `$`. A bare `$VAR` or a `${VAR}` without
 * a default is reported (it would silently become empty), as is anything else after a `$`.
 */
export function interpolate(value: unknown, problems: string[], path = ""): unknown {
  if (typeof value === "string") {
    return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(:?-)([^}]*)\}|\$\{[^}]*\}|\$[A-Za-z_{]?/g, (m, name, op, def) => {
      if (m === "$$") return "$";
      if (name && op) return def;
      problems.push(`${path}: "${m}" has no default (Compose would substitute an empty string)`);
      return "";
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, problems, `${path}[${i}]`));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, problems, `${path}.${k}`)]));
  return value;
}

/** Keywords of the Kubernetes and CRD schemas that carry no validation for a JSON-schema validator. */
const K8S_KEYWORDS = [
  "x-kubernetes-group-version-kind",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-map-type",
  "x-kubernetes-patch-strategy",
  "x-kubernetes-patch-merge-key",
  "x-kubernetes-unions",
  "x-kubernetes-int-or-string",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-embedded-resource",
  "x-kubernetes-validations", // CEL rules: the ScaledObject's one is checked by hand in the test
  "x-source",
  "x-kinds",
];

export const loadSchema = (file: string) => JSON.parse(readFileSync(join(SCHEMAS, file), "utf8"));

/**
 * ajv options: unknown keywords and formats in a schema are errors (strictSchema), so a schema that
 * ajv would half-understand fails loudly; the style checks (strictTypes, ...) are off, as they
 * judge how the vendored schemas are written, not what they accept.
 */
const OPTIONS = {
  strictSchema: true,
  strictNumbers: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  allErrors: true,
  validateFormats: true,
} as const;

/** ajv for draft 2020-12 schemas (Compose, Kubernetes). */
export function ajv2020() {
  const ajv = new Ajv2020(OPTIONS);
  addFormats(ajv);
  for (const k of K8S_KEYWORDS) ajv.addKeyword(k);
  return ajv;
}

/** ajv for draft-07 schemas (KEDA's CRD schema, converted to JSON schema by vendor.ts). */
export function ajvDraft7() {
  const ajv = new AjvDraft7(OPTIONS);
  addFormats(ajv);
  for (const k of K8S_KEYWORDS) ajv.addKeyword(k);
  return ajv;
}

export const errorsText = (errors: { instancePath: string; message?: string; params?: unknown }[] | null | undefined) =>
  (errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`).join("\n");

const PROMQL_WORDS = new Set([
  "sum",
  "min",
  "max",
  "avg",
  "count",
  "stddev",
  "stdvar",
  "topk",
  "bottomk",
  "quantile",
  "count_values",
  "group",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
]);

/** Metric names a PromQL expression selects (functions, keywords, labels and strings removed). */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, " ") // label matchers
    .replace(/\[[^\]]*\]/g, " ") // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " "); // label lists
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = m[0];
    const after = stripped.slice(m.index! + word.length).trimStart();
    if (after.startsWith("(") || PROMQL_WORDS.has(word) || word.startsWith("$")) continue;
    if (/^(e|inf|nan)$/i.test(word)) continue;
    names.add(word);
  }
  return [...names];
}

/** `by (...)` label lists and `{label op "value"}` matchers of a PromQL expression. */
export function promqlLabels(expr: string) {
  const grouped = [...expr.matchAll(/\bby\s*\(([^)]*)\)/g)].flatMap((m) =>
    m[1]!
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const matchers = [...expr.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*\{([^}]*)\}/g)].flatMap((m) =>
    [...m[2]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map((x) => ({
      metric: m[1]!,
      label: x[1]!,
      op: x[2]!,
      value: x[3]!,
    })),
  );
  return { grouped, matchers };
}

/** Runs a command, returning exit code and output (never throws). */
export function sh(cmd: string[], env: Record<string, string | undefined> = {}, cwd = ROOT) {
  const r = Bun.spawnSync(cmd, { cwd, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: `${r.stdout}${r.stderr}` };
}
