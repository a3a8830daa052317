import { PROBLEM_DESCRIPTION } from "@wf/contract/problem";
import { ANY_REQUIRED, EXCLUSIVE, MEDIA_TYPE } from "@wf/contract/types";
import { PROBLEM_CONTENT_TYPE } from "@wf/http";
import { addLinks } from "./links.ts";

/** The parts of an OpenAPI document these fixes touch. */
interface Doc {
  components?: { schemas?: Record<string, Schema> };
  paths?: Record<string, Record<string, Operation>>;
}
interface Operation {
  operationId?: string;
  description?: string;
  "x-required-scope"?: string;
  responses?: Record<string, Response>;
  parameters?: Array<{ schema?: Schema }>;
}
type Schema = Record<string, unknown>;
interface Response {
  description?: string;
  content?: Record<string, unknown>;
  headers?: Record<string, unknown>;
  links?: Record<string, unknown>;
}

const fixed = new WeakSet<object>();

const header = (description: string) => ({ description, schema: { type: "string" } });
const REQUEST_ID = header(
  "The client's x-request-id when it sent a sane one (letters, digits, . _ : -, up to 128), else one minted by the server; in the access log too.",
);
const RETRY_AFTER = header("Seconds after which the request may succeed.");
const REPLAYED = header("`true` when the idempotency_key matched an earlier trigger and that run is answered.");

/**
 * What @elysiajs/openapi 1.4.16 writes wrongly into the document, put right in place, once per
 * document object (the plugin keeps one, and builds a new one only when the routes change):
 * - problem answers were documented as application/json, but are sent as application/problem+json
 *   (only problems: a 503 of /health/ready is its JSON readiness report);
 * - a 204 got `content: {"type": "void"}`, which is not a media type map (the document failed
 *   OpenAPI validation; elysiajs/elysia-openapi#348 review): an empty answer has no content;
 * - each model's `$id` was repeated wherever the model is used, and an `$id` defined twice makes
 *   the document invalid; models are referred to by `$ref` to components, so none is needed;
 * - the headers every answer or some carry were not documented at all;
 * - a `t.Numeric` parameter (the page `limit`) was "a string of format numeric, or a number", and
 *   the string branch, whose format no client knows, let clients (and fuzzers) send `limit=` as
 *   valid; it is the number it decodes to, an integer where it must be a whole number;
 * - properties that may not come together, or of which one must come (the contract's EXCLUSIVE and
 *   ANY_REQUIRED options), were not said at all: they become `not` and `anyOf` of `required`s
 *   (Elysia's validator compiler cannot take those keywords on an object);
 * - a discriminated union (contract's `discriminatedUnion`: a step by its `type`) is written inline
 *   as TypeBox's `anyOf`; client generators expect `oneOf` of the components its mapping names.
 * - an answer that is not JSON although its schema is an object (the events stream, whose schema
 *   describes one event) was filed as JSON: the contract's MEDIA_TYPE option names its media type;
 * Also, for people reading Swagger UI, an operation's scope (`x-required-scope`) is told in its
 * description; and the links between operations are added (links.ts).
 */
export function fixDocument<T>(doc: T): T {
  if (typeof doc !== "object" || doc === null || fixed.has(doc)) return doc;
  fixed.add(doc);
  dropIds(doc);
  propertyRules(doc);
  namedVariants(doc as Doc);
  addLinks((doc as Doc).paths ?? {});
  for (const [path, ops] of Object.entries((doc as Doc).paths ?? {}))
    for (const op of Object.values(ops)) {
      const scope = op["x-required-scope"];
      if (scope) op.description = `${op.description ? `${op.description}\n\n` : ""}${scopeNote(scope)}`;
      for (const param of op.parameters ?? []) if (param.schema) param.schema = numericAsNumber(param.schema);
      for (const [status, res] of Object.entries(op.responses ?? {})) {
        const code = Number(status);
        if (res.content && !Object.keys(res.content).every((k) => k.includes("/"))) delete res.content;
        const json = res.content?.["application/json"] as { schema?: { description?: string } } | undefined;
        if (json?.schema?.description === PROBLEM_DESCRIPTION) res.content = { [PROBLEM_CONTENT_TYPE]: json };
        for (const media of Object.values(res.content ?? {})) {
          const streamed = mediaTypeOf(doc as Doc, media);
          if (streamed) res.content = { [streamed]: media };
        }
        res.headers = {
          ...res.headers,
          "x-request-id": REQUEST_ID,
          ...(code === 429 || code === 503 ? { "retry-after": RETRY_AFTER } : {}),
          ...(path === "/api/v1/trigger" && code === 202 ? { "idempotent-replayed": REPLAYED } : {}),
        };
      }
    }
  return doc;
}

/** The media type a media type object's schema (itself or the component it refers to) names, with the contract's MEDIA_TYPE. */
function mediaTypeOf(doc: Doc, media: unknown): string | undefined {
  let schema = (media as { schema?: Schema } | undefined)?.schema;
  const ref = schema?.$ref;
  if (typeof ref === "string") schema = doc.components?.schemas?.[ref.slice(ref.lastIndexOf("/") + 1)];
  return typeof schema?.[MEDIA_TYPE] === "string" ? schema[MEDIA_TYPE] : undefined;
}

const scopeNote = (scope: string) =>
  `With API keys required: a key with the scope \`${scope}\` (or \`admin\`); without it the answer is a 403.`;

function numericAsNumber(schema: Schema): Schema {
  const branches = schema.anyOf as Schema[] | undefined;
  const number = branches?.find((b) => b.type === "number" || b.type === "integer");
  if (!number || !branches!.some((b) => b.type === "string" && b.format === "numeric")) return schema;
  const { anyOf: _, multipleOf, ...rest } = { ...schema, ...number };
  return multipleOf === 1 ? { ...rest, type: "integer" } : { ...rest, multipleOf, type: number.type };
}

function propertyRules(node: unknown): void {
  if (Array.isArray(node)) for (const item of node) propertyRules(item);
  else if (node !== null && typeof node === "object") {
    const schema = node as Schema;
    const exclusive = schema[EXCLUSIVE];
    if (Array.isArray(exclusive)) {
      schema.not = { required: exclusive };
      delete schema[EXCLUSIVE];
    }
    const anyRequired = schema[ANY_REQUIRED];
    if (Array.isArray(anyRequired)) {
      schema.anyOf = anyRequired.map((name) => ({ required: [name] }));
      delete schema[ANY_REQUIRED];
    }
    for (const value of Object.values(schema)) propertyRules(value);
  }
}

function dropIds(node: unknown): void {
  if (Array.isArray(node)) for (const item of node) dropIds(item);
  else if (node !== null && typeof node === "object") {
    delete (node as Record<string, unknown>).$id;
    for (const value of Object.values(node)) dropIds(value);
  }
}

/**
 * Each union with a discriminator mapping becomes `oneOf` of references; its variants move to the
 * components the mapping names (once: the same union appears in requests and responses).
 */
function namedVariants(doc: Doc): void {
  doc.components ??= {};
  doc.components.schemas ??= {};
  const components = doc.components.schemas;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) for (const item of node) visit(item);
    if (node === null || typeof node !== "object" || Array.isArray(node)) return;
    const schema = node as Schema;
    const discriminator = schema.discriminator as { propertyName: string; mapping?: Record<string, string> } | undefined;
    const variants = schema.anyOf as Schema[] | undefined;
    if (discriminator?.mapping && variants) {
      const mapping = discriminator.mapping;
      schema.oneOf = variants.map((variant) => {
        const tag = (variant.properties as Record<string, Schema> | undefined)?.[discriminator.propertyName];
        const ref = mapping[String(tag?.const ?? (tag?.enum as unknown[] | undefined)?.[0])];
        if (ref === undefined) return variant;
        components[ref.slice(ref.lastIndexOf("/") + 1)] ??= variant;
        return { $ref: ref };
      });
      delete schema.anyOf;
    }
    for (const value of Object.values(schema)) visit(value);
  };
  visit(doc.paths);
  for (const [name, schema] of Object.entries(components)) if (!name.includes("/")) visit(schema);
}
