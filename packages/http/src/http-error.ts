import type { FieldError } from "@wf/core/errors";

/** A client error detected by the HTTP layer itself, before any domain code runs. */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 405 | 413 | 415,
    readonly title: string,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

// The parser's own message names engine internals and differs between JavaScriptCore and V8.
export const malformedJson = () => new HttpError(400, "Malformed JSON", "the request body is not valid JSON");
export const bodyTooLarge = (limit: number) => new HttpError(413, "Payload Too Large", `request body exceeds the limit of ${limit} bytes`);
export const jsonTooDeep = (max: number) =>
  new HttpError(400, "JSON Too Deep", `the request body nests arrays and objects more than ${max} levels deep`);
export const unsupportedMediaType = (got: string | null) =>
  new HttpError(
    415,
    "Unsupported Media Type",
    `expected content-type application/json, got ${got === null ? "none" : JSON.stringify(got)}`,
  );

/** A known path asked with a method it does not answer; `allow` goes into the Allow header (RFC 9110). */
export class MethodNotAllowed extends HttpError {
  constructor(readonly allow: readonly string[]) {
    super(405, "Method Not Allowed", `this path answers ${allow.join(", ")} only`);
  }
}

/** A query string the schema cannot judge (a parameter given twice): answered like a schema violation, 400. */
export class BadQuery extends Error {
  constructor(readonly errors: FieldError[]) {
    super("the query string is not valid");
    this.name = "BadQuery";
  }
}
