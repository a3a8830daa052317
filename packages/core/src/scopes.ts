import { badRequest } from "./errors.ts";

/**
 * What an API key may do. Each endpoint needs one scope; `admin` holds them all. A write scope
 * does not imply its read scope: a key that only triggers runs need not read them.
 */
export const SCOPES = ["workflows:read", "workflows:write", "runs:read", "runs:write", "secrets:write", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export const isScope = (s: unknown): s is Scope => typeof s === "string" && (SCOPES as readonly string[]).includes(s);

/** Whether a key holding `held` may use an endpoint that needs `needed`. */
export const allows = (held: readonly Scope[], needed: Scope): boolean => held.includes("admin") || held.includes(needed);

/** `runs:read,workflows:read` → its scopes, each once; an unknown or missing name is a `bad_request`. */
export function parseScopes(list: string): Scope[] {
  const names = list.split(",").map((s) => s.trim());
  const unknown = names.filter((s) => !isScope(s));
  if (names.length === 0 || unknown.length > 0)
    throw badRequest(
      `unknown scope ${unknown.map((s) => JSON.stringify(s)).join(", ")}: the scopes are ${SCOPES.join(", ")}, comma-separated`,
    );
  return [...new Set(names as Scope[])];
}
