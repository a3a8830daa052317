import type { FieldError } from "@wf/core/errors";
import {
  internalProblem,
  malformedJsonProblem,
  PROBLEM_CONTENT_TYPE,
  type Problem,
  problem,
  problemHeaders,
  type RouteTable,
  routeNotFound,
  sharedProblem,
  validationProblem,
} from "@wf/http";
import { errorFields, type Logger } from "@wf/platform/observability";
import { ParseError, ValidationError } from "elysia";
import { pathOf } from "./request-hooks.ts";
import { type SetHeaders, takeHeaders } from "./responses.ts";

/**
 * A body schema whose failures are better told by a function of the body than by the schema's own
 * errors (a union's failure names no field: see @wf/contract/workflow-errors).
 */
export interface BodyErrors {
  schema: unknown;
  explain(body: unknown, schemaErrors: FieldError[]): FieldError[];
}

const schemaError = (e: object): string | undefined => {
  const schema = "schema" in e ? (e.schema as { error?: unknown } | undefined) : undefined;
  return typeof schema?.error === "string" ? schema.error : undefined;
};

function fromValidation(err: ValidationError, bodyErrors: readonly BodyErrors[]): Problem {
  const errors: FieldError[] = err.all.map((e) => ({
    path: "path" in e && typeof e.path === "string" ? e.path : "",
    // A schema's own `error` says it better than the validator's generic words.
    message: schemaError(e) ?? ("summary" in e && typeof e.summary === "string" ? e.summary : e.message),
  }));
  switch (err.type) {
    case "body": {
      const schema = (err.validator as { schema?: unknown } | undefined)?.schema;
      const explained = bodyErrors.find((b) => b.schema === schema);
      return validationProblem("body", explained ? explained.explain(err.value, errors) : errors);
    }
    case "params": {
      // A malformed id names no resource (404); any other path parameter (a signal's name) is
      // input the client chose, told like a body's field (422, the path is the parameter's name).
      const named = errors.filter((e) => e.path !== "/id").map((e) => ({ ...e, path: e.path.replace(/^\//, "") }));
      const unique = named.filter((e, i) => named.findIndex((o) => o.path === e.path && o.message === e.message) === i);
      return named.length > 0 && named.length === errors.length
        ? problem(
            422,
            "validation",
            "Unprocessable Content",
            unique.length === 1 ? unique[0]!.message : `${unique.length} validation errors`,
            unique,
          )
        : validationProblem(err.type, errors);
    }
    case "response":
      // Our own response broke its schema: a bug, never the client's fault.
      return internalProblem;
    default:
      // The query string, or a query value that failed coercion (Elysia's "property").
      return validationProblem("query", errors);
  }
}

/**
 * The Elysia side of the one error mapping: Elysia's own error types here, everything shared in
 * @wf/http. Anything not recognised is an internal error: logged by the caller, sent without details.
 */
export function toProblem(err: unknown, elysiaCode?: string | number, bodyErrors: readonly BodyErrors[] = []): Problem {
  // Elysia wraps what a parser throws in its ParseError; ours carry their own status.
  const shared = sharedProblem(err instanceof ParseError ? (err.cause ?? err) : err);
  if (shared) return shared;
  if (err instanceof ValidationError) return fromValidation(err, bodyErrors);
  if (elysiaCode === "NOT_FOUND") return routeNotFound;
  if (elysiaCode === "PARSE") return malformedJsonProblem();
  return internalProblem;
}

interface ErrorContext {
  error: unknown;
  code: string | number;
  set: { headers: SetHeaders; status?: unknown };
  request: Request;
}

/**
 * The one error handler: every failure becomes a problem+json response; only unexpected ones are
 * logged. `routes` is asked only for requests the router did not match.
 */
export const handleError =
  (log: Logger, routes: () => RouteTable, bodyErrors: readonly BodyErrors[] = []) =>
  ({ error: thrown, code, set, request }: ErrorContext): Response => {
    // Not found by the router may be a served path asked with another method: a 405.
    const error = (code === "NOT_FOUND" && routes().methodNotAllowed(request.method, pathOf(request.url))) || thrown;
    const p = toProblem(error, code, bodyErrors);
    if (p.status >= 500) log.error("unhandled error", { ...errorFields(error), path: pathOf(request.url) });
    const headers = { ...takeHeaders(set.headers, PROBLEM_CONTENT_TYPE), ...problemHeaders(p, error) };
    set.status = p.status;
    return new Response(JSON.stringify(p), { status: p.status, headers });
  };
