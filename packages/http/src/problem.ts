import { DomainError, type FieldError } from "@wf/core/errors";
import type { Logger } from "@wf/platform/observability";
import { BadQuery, HttpError, MethodNotAllowed } from "./http-error.ts";

/**
 * RFC 9457 problem details, built the same way by the Bun API and the Node reference: each server
 * maps only its own framework's error types, everything else is decided here.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";
const TYPE_BASE = "https://workflow-service.dev/problems/";

export const problem = (status: number, slug: string, title: string, detail: string, errors?: FieldError[]): Problem => ({
  type: `${TYPE_BASE}${slug}`,
  title,
  status,
  detail,
  ...(errors && errors.length > 0 ? { errors } : {}),
});

const DOMAIN: Record<DomainError["kind"], [number, string, string]> = {
  bad_request: [400, "bad-request", "Bad Request"],
  not_found: [404, "not-found", "Not Found"],
  conflict: [409, "conflict", "Conflict"],
  invalid: [422, "validation", "Unprocessable Content"],
  unavailable: [503, "unavailable", "Service Unavailable"],
  unauthorized: [401, "unauthorized", "Unauthorized"],
  forbidden: [403, "forbidden", "Forbidden"],
  rate_limited: [429, "rate-limited", "Too Many Requests"],
};

export const internalProblem = problem(500, "internal", "Internal Server Error", "the server failed to handle this request");
export const routeNotFound = problem(404, "not-found", "Not Found", "no route matches this method and path");
export const malformedJsonProblem = () => problem(400, "malformed-json", "Malformed JSON", "the request body is not valid JSON");

/** Where a schema violation was found decides its status, identically on both servers. */
export function validationProblem(where: "body" | "params" | "query", errors: FieldError[]): Problem {
  // A body that parses but breaks the schema is unprocessable content (422); a bad path id is an
  // unknown resource (404); a bad query string is a bad request (400).
  if (where === "body") return problem(422, "validation", "Unprocessable Content", "the request body does not match the schema", errors);
  if (where === "params") return problem(404, "not-found", "Not Found", "no resource has this id");
  return problem(400, "bad-query", "Bad Request", "the query string is not valid", errors);
}

/** Problems for errors both servers share (the domain's, the HTTP layer's); undefined otherwise. */
export function sharedProblem(err: unknown): Problem | undefined {
  if (err instanceof DomainError) {
    const [status, slug, title] = DOMAIN[err.kind];
    return problem(status, slug, title, err.message, err.fields);
  }
  if (err instanceof BadQuery) return validationProblem("query", err.errors);
  if (err instanceof HttpError) return problem(err.status, err.title.toLowerCase().replaceAll(" ", "-"), err.title, err.message);
  return undefined;
}

/**
 * Headers a problem answer carries besides its content type: `retry-after` on 429 and 503 (when
 * the rate budget refills, when a dependency's circuit probes again, else 5 s), the bearer
 * challenge on 401, the methods a path answers on 405, and `connection: close` on 413: what is
 * left of a refused body is never read, so the connection cannot carry another request.
 */
export function problemHeaders(p: Problem, err?: unknown): Record<string, string> {
  if (err instanceof MethodNotAllowed) return { allow: err.allow.join(", ") };
  if (p.status === 413) return { connection: "close" };
  if (p.status === 401) return { "www-authenticate": 'Bearer realm="workflow-service"' };
  if (p.status !== 503 && p.status !== 429) return {};
  const s = err instanceof DomainError && err.retryAfterS !== undefined ? err.retryAfterS : 5;
  return { "retry-after": String(s) };
}

/** A client's x-request-id is echoed only when it is a sane token; otherwise one is minted. */
export const CLIENT_REQUEST_ID = /^[\w.:-]{1,128}$/;
export const requestId = (given: string | null | undefined): string =>
  given != null && CLIENT_REQUEST_ID.test(given) ? given : crypto.randomUUID();

/** application/json and any application/*+json, with or without parameters. */
export const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * The access-log line of one request, the same on both servers: every request at debug, server
 * errors at warn. No body, no query string, no headers: nothing a client sent can leak into logs.
 */
export function logRequest(
  log: Logger,
  debug: boolean,
  status: number,
  seconds: number,
  // Called only when a line is written: most requests are not logged and should not pay for it.
  describe: () => { request_id: string; method: string; route: string },
): void {
  if (status < 500 && !debug) return;
  const f = { ...describe(), status, duration_ms: Math.round(seconds * 1e4) / 10 };
  if (status >= 500) log.warn("request failed", f);
  else log.debug("request", f);
}
