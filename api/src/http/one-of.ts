import { t } from "elysia";

/**
 * A string from a fixed list. Elysia's `t.UnionEnum` gives the schema a default (its first value),
 * which silently fills a missing field — an absent `status` filter became "pending" — so enums
 * are plain unions of literals here.
 */
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T, options: { description?: string } = {}) => {
  // Typed as one literal of the union of values: same static type, simpler for the checker.
  const literals = values.map((v) => t.Literal(v)) as unknown as [ReturnType<typeof t.Literal<T[number]>>];
  return t.Union(literals, options);
};
