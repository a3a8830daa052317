import { type IntegerOptions, type TInteger, Type } from "@sinclair/typebox";
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
