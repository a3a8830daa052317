import { Elysia } from "elysia";
import { bodyTooLarge, JSON_MEDIA_TYPE, malformedJson, unsupportedMediaType } from "@wf/http";

const hasBody = (req: Request): boolean => {
  const len = req.headers.get("content-length");
  return len !== null ? len !== "0" : req.headers.has("transfer-encoding");
};

/**
 * The only body parser: JSON or nothing. A body in any other media type is a 415, one over the
 * limit a 413 (checked on the declared length first, then on what actually arrived, for chunked
 * uploads), and JSON that does not parse a 400 — each as problem+json via the error handler.
 */
export const jsonBody = (limitBytes: number) =>
  new Elysia({ name: "json-body", seed: limitBytes }).onParse({ as: "global" }, async ({ request }) => {
    if (!hasBody(request)) return undefined;
    const type = request.headers.get("content-type");
    if (type === null || !JSON_MEDIA_TYPE.test(type)) throw unsupportedMediaType(type);
    const declared = Number(request.headers.get("content-length") ?? "0");
    if (declared > limitBytes) throw bodyTooLarge(limitBytes);
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.byteLength > limitBytes) throw bodyTooLarge(limitBytes);
    if (bytes.byteLength === 0) return undefined;
    try {
      return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    } catch {
      throw malformedJson();
    }
  });
