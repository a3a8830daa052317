import type { Scope } from "@wf/core/scopes";
import { t } from "elysia";
import { integer } from "./types.ts";

/** The problem schema's description: also how the OpenAPI fixes tell a problem response from others. */
export const PROBLEM_DESCRIPTION = "RFC 9457 problem details (application/problem+json)";

export const ProblemSchema = t.Object(
  {
    type: t.String(),
    title: t.String(),
    status: integer(),
    detail: t.String(),
    errors: t.Optional(t.Array(t.Object({ path: t.String(), message: t.String() }))),
  },
  { description: PROBLEM_DESCRIPTION },
);

/**
 * Documents the problem responses a route can give, for the OpenAPI document; typed by status, so
 * the typed client (@wf/client) knows each route's problems (`error.status` is 404 | 401 | ...).
 */
export const problemResponses = <const S extends number[]>(...statuses: S) =>
  Object.fromEntries(statuses.map((s) => [s, ProblemSchema])) as { [K in S[number]]: typeof ProblemSchema };

/**
 * Every /api/v1 route: a bearer API key when the server requires keys (API_KEYS_REQUIRED), none
 * otherwise; hence the empty alternative.
 */
export const API_SECURITY: Array<Record<string, string[]>> = [{ bearer: [] }, {}];

/**
 * The one declaration of the scope an /api/v1 route needs, spread into its `detail`: the access
 * guard reads `x-required-scope` back from the route (both servers: the Node reference from the
 * document), and clients see it in the document, also as the bearer scheme's role. A route
 * under /api that declares none needs `admin`.
 */
export const requiresScope = (scope: Scope) => ({
  security: [{ bearer: [scope] }, {}] as Array<Record<string, string[]>>,
  "x-required-scope": scope,
});

/** The problems of an /api/v1 route: its own, plus a missing or bad key (401), a key without the
 * route's scope (403), a spent rate (429) and a dependency that is down (503). */
export const apiProblemResponses = <const S extends number[]>(...statuses: S) => problemResponses(...statuses, 401, 403, 429, 503);
