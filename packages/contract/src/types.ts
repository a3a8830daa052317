import { type IntegerOptions, type TInteger, type TObject, type TUnion, Type } from "@sinclair/typebox";
import { type TSchema, t } from "elysia";

/**
 * A string from a fixed list. Elysia's `t.UnionEnum` gives the schema a default (its first value),
 * which silently fills a missing field (an absent `status` filter became "pending"), so enums are
 * plain unions of literals here.
 */
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T, options: { description?: string } = {}) => {
  // Typed as one literal of the union of values: same static type, simpler for the checker.
  const literals = values.map((v) => t.Literal(v)) as unknown as [ReturnType<typeof t.Literal<T[number]>>];
  return t.Union(literals, options);
};

/**
 * A JSON integer, for bodies and responses. Elysia's `t.Integer` is meant for path and query text:
 * it also accepts and converts a string of digits, so `"3"` would pass where the contract says 3.
 */
export const integer = (options?: IntegerOptions): TInteger => Type.Integer(options);

/**
 * A response schema that documents (OpenAPI) without being checked on every response: the contract
 * suite checks every response against the published document instead (cost: bench/FINDINGS.md).
 * `noValidate` is Elysia's own switch for this.
 */
export const responseOnly = <T extends TSchema>(schema: T): T => Object.assign(schema, { noValidate: true });

/** The value a variant's discriminating property accepts: a literal, or a union of one literal (`oneOf`). */
const soleValue = (schema: TSchema | undefined): unknown => schema?.const ?? (schema?.anyOf as TSchema[] | undefined)?.[0]?.const;

/**
 * A union of objects told apart by one property, for OpenAPI a `oneOf` with a `discriminator` whose
 * mapping names one component per variant (what client generators build their types from). TypeBox
 * checks it as `anyOf`: the variants exclude each other by that property, so anyOf and oneOf accept
 * the same values. The document fixes of the API (docs/document-fixes.ts) write the variants out as
 * the components the mapping names and the union as `oneOf`.
 */
export function discriminatedUnion<V extends TObject[]>(
  propertyName: string,
  variants: [...V],
  component: (value: string) => string,
): TUnion<V> {
  const mapping: Record<string, string> = {};
  for (const variant of variants) {
    const value = soleValue(variant.properties[propertyName]);
    // A variant that does not carry its own value would make the mapping lie.
    if (typeof value !== "string" || !variant.required?.includes(propertyName) || value in mapping)
      throw new Error(`each variant must require its own value of ${propertyName}`);
    mapping[value] = `#/components/schemas/${component(value)}`;
  }
  return t.Union(variants, { discriminator: { propertyName, mapping } }) as TUnion<V>;
}

/**
 * Schema option: properties of an object that may not come together. The API's document fixes
 * write it as `not: {required: [...]}`; the service itself answers such a request with a 422.
 */
export const EXCLUSIVE = "x-exclusive";

/**
 * Schema option: properties of an object of which at least one must come. The API's document
 * fixes write it as `anyOf: [{required: [a]}, {required: [b]}, ...]`; the service answers a request
 * without any of them with a 422.
 */
export const ANY_REQUIRED = "x-any-required";

/**
 * Schema option: the media type of an answer that is not JSON although its schema is an object
 * (an event stream, whose schema describes each event, as OpenAPI 3.0 and 3.1 read it). The API's
 * document fixes file the answer under it.
 */
export const MEDIA_TYPE = "x-media-type";
