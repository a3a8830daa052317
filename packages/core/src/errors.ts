/**
 * The domain's failures, as one typed value. The HTTP layers (Elysia and the Node reference)
 * map `kind` to a problem+json status in one place each; the domain never knows about HTTP.
 */
export interface FieldError {
  path: string;
  message: string;
}

/** bad_request: the request itself is unusable (a tampered cursor); invalid: a well-formed request whose content breaks a rule. */
export type ErrorKind =
  | "bad_request"
  | "not_found"
  | "conflict"
  | "invalid"
  | "unavailable"
  | "unauthorized"
  | "forbidden"
  | "rate_limited";
export type Dependency = "postgres" | "redis" | "kafka";

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly fields: FieldError[] = [],
    /** For `unavailable`: which dependency, so the client can be told when to retry. */
    readonly dependency?: Dependency,
    /** For `unavailable` and `rate_limited`: seconds after which a retry may succeed (`retry-after`). */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

export const notFound = (what: string, id: string) => new DomainError("not_found", `${what} ${id} does not exist`);
export const badRequest = (message: string, fields: FieldError[] = []) => new DomainError("bad_request", message, fields);
export const conflict = (message: string) => new DomainError("conflict", message);
export const invalid = (fields: FieldError[]) =>
  new DomainError("invalid", fields.length === 1 ? fields[0]!.message : `${fields.length} validation errors`, fields);
export const unavailable = (dependency: Dependency, message: string, retryAfterS?: number) =>
  new DomainError("unavailable", message, [], dependency, retryAfterS);
export const unauthorized = (message: string) => new DomainError("unauthorized", message);
/** A valid key that may not do this (it lacks the scope): 403, where an unknown key is 401. */
export const forbidden = (message: string) => new DomainError("forbidden", message);
export const rateLimited = (retryAfterS: number) =>
  new DomainError("rate_limited", "this API key's request rate is exceeded", [], undefined, retryAfterS);
