import { internalProblem, malformedJsonProblem, routeNotFound, sharedProblem, validationProblem, type Problem } from "@wf/http";
import type { FieldError } from "@wf/core/errors";
import { ParseError, ValidationError } from "elysia";

export { PROBLEM_CONTENT_TYPE, problemHeaders, type Problem } from "@wf/http";

function fromValidation(err: ValidationError): Problem {
  const errors: FieldError[] = err.all.map((e) => ({
    path: "path" in e && typeof e.path === "string" ? e.path : "",
    message: "summary" in e && typeof e.summary === "string" ? e.summary : e.message,
  }));
  switch (err.type) {
    case "body":
    case "params":
      return validationProblem(err.type, errors);
    case "response":
      // Our own answer broke its schema: a bug, never the client's fault.
      return internalProblem;
    default:
      // The query string, or a query value that failed coercion (Elysia's "property").
      return validationProblem("query", errors);
  }
}

/**
 * The Elysia side of the one error mapping: Elysia's own error types here, everything shared in
 * @wf/http. Anything not recognised is an internal error: logged by the caller, answered without details.
 */
export function toProblem(err: unknown, elysiaCode?: string | number): Problem {
  // Elysia wraps what a parser throws in its ParseError; ours carry their own status.
  const shared = sharedProblem(err instanceof ParseError ? (err.cause ?? err) : err);
  if (shared) return shared;
  if (err instanceof ValidationError) return fromValidation(err);
  if (elysiaCode === "NOT_FOUND") return routeNotFound;
  if (elysiaCode === "PARSE") return malformedJsonProblem();
  return internalProblem;
}
