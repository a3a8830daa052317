import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The OpenAPI document the Bun API generates from its `t` schemas, exported at build time: the
 * Node reference validates with exactly those JSON schemas and publishes the same document.
 */
type Json = Record<string, unknown>;
interface Operation {
  /** The scope a key needs for it (see `requiresScope` in @wf/contract). */
  "x-required-scope"?: string;
  requestBody?: { content?: Record<string, { schema?: Json }> };
  parameters?: Array<{ name: string; in: "query" | "path"; required?: boolean; schema: Json }>;
  operationId?: string;
  responses?: Record<string, { links?: Record<string, { operationId?: string }> }>;
}
export interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json> };
}

export const loadDocument = (dir: string): OpenApiDoc => JSON.parse(readFileSync(join(dir, "openapi.json"), "utf8")) as OpenApiDoc;

/** Inlines component references: each route schema stands alone for ajv. */
function adapt(schema: unknown, doc: OpenApiDoc): unknown {
  if (Array.isArray(schema)) return schema.map((s) => adapt(s, doc));
  if (schema === null || typeof schema !== "object") return schema;
  const s = schema as Json;
  if (typeof s.$ref === "string") return adapt(doc.components.schemas[s.$ref.split("/").pop()!], doc);
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) if (k !== "$id" && k !== "noValidate") out[k] = adapt(v, doc);
  return out;
}

export interface RouteSchemas {
  body?: unknown;
  querystring?: unknown;
  params?: unknown;
}

/** Fastify's route schemas for one operation of the document. */
export function routeSchemas(doc: OpenApiDoc, path: string, method: string): RouteSchemas {
  const op = doc.paths[path]?.[method.toLowerCase()];
  if (!op) throw new Error(`the OpenAPI document has no ${method} ${path}`);
  const out: RouteSchemas = {};
  const body = op.requestBody?.content?.["application/json"]?.schema;
  if (body) out.body = adapt(body, doc);
  for (const where of ["query", "path"] as const) {
    const params = (op.parameters ?? []).filter((p) => p.in === where);
    if (params.length === 0) continue;
    const schema = {
      type: "object",
      properties: Object.fromEntries(params.map((p) => [p.name, adapt(p.schema, doc)])),
      required: params.filter((p) => p.required).map((p) => p.name),
    };
    // Unknown parameters are errors, as on the Bun API (Elysia closes its query objects).
    if (where === "query") out.querystring = { ...schema, additionalProperties: false };
    else out.params = schema;
  }
  return out;
}

/** `/api/v1/runs/{id}` → `/api/v1/runs/:id` */
export const fastifyPath = (openapiPath: string) => openapiPath.replace(/\{(\w+)\}/g, ":$1");

/**
 * The document without the operations this server does not serve: the Bun API's Version 2
 * endpoints are its own, and a document listing them here would promise routes that answer 404.
 * `served` holds "METHOD /openapi/path" entries.
 */
export function servedDocument(doc: OpenApiDoc, served: ReadonlySet<string>): OpenApiDoc {
  const paths: OpenApiDoc["paths"] = {};
  for (const [path, ops] of Object.entries(doc.paths)) {
    const kept = Object.entries(ops).filter(([method]) => served.has(`${method.toUpperCase()} ${path}`));
    if (kept.length > 0) paths[path] = structuredClone(Object.fromEntries(kept));
  }
  // Links to operations left out go too: a link must name an operation of its document.
  const ids = new Set(Object.values(paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId)));
  for (const ops of Object.values(paths))
    for (const op of Object.values(ops))
      for (const res of Object.values(op.responses ?? {}))
        if (res.links) {
          res.links = Object.fromEntries(Object.entries(res.links).filter(([, link]) => ids.has(link.operationId)));
          if (Object.keys(res.links).length === 0) delete res.links;
        }
  return { ...doc, paths };
}
