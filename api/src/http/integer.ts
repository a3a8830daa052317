import { Type, type IntegerOptions, type TInteger } from "@sinclair/typebox";

/**
 * A JSON integer, for bodies and answers. Elysia's `t.Integer` is meant for path and query text:
 * it also accepts a string of digits and converts it. In a JSON body that let `"3"` through where
 * the contract says 3 (the Node reference, validating the published schema, refused it), it put
 * "string or integer" in the OpenAPI document for every integer, answers included, and it made
 * Elysia walk every such body and answer through TypeBox's transform on each request.
 */
export const integer = (options?: IntegerOptions): TInteger => Type.Integer(options);
