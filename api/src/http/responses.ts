import { sharedJson } from "@wf/http";

/** Elysia's `set.headers`: what hooks and the handler have put on the response so far. */
export type SetHeaders = Record<string, string | number | string[] | undefined>;

/**
 * The headers for a Response a handler builds itself: everything in `set`, which is emptied, and
 * the content type. Elysia returns a Response as it is only when `set` has no headers; otherwise
 * it copies it whole, a new Headers and a new Response around its body (cost: bench/FINDINGS.md).
 */
export function takeHeaders(set: SetHeaders, contentType: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const key in set) {
    const value = set[key];
    if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(", ") : String(value);
    delete set[key];
  }
  headers["content-type"] = contentType;
  return headers;
}

/**
 * A body over this many bytes goes out as a direct stream: Bun.serve's cork buffer is 16 KiB and
 * the status line and headers share it.
 */
export const DIRECT_STREAM_FROM_BYTES = 15 * 1024;

// Bun's ReadableStream takes a "direct" source; the DOM lib's typing of the global hides that overload.
const DirectStream = ReadableStream as unknown as new (source: Bun.DirectUnderlyingSource<Uint8Array>) => ReadableStream<Uint8Array>;

const JSON_TYPE = "application/json;charset=utf-8";

/**
 * A JSON response that leaves in one `send()` whatever its size. Bun corks a socket only around
 * the synchronous part of a handler (oven-sh/bun#41341), so a large body finished after an `await`
 * went out as one `send()` per header part; a direct stream's one write is sent whole, framed
 * chunked. Smaller responses keep their content-length. The text is serialized once per page
 * object (sharedJson). What it bought: bench/FINDINGS.md.
 */
export function jsonResponse(value: object, set: { headers: SetHeaders }): Response {
  const text = sharedJson(value);
  const headers = takeHeaders(set.headers, JSON_TYPE);
  // Length in UTF-16 units, at most the byte length: a page of mostly non-ASCII text may still
  // take the fragmented path, never a wrong one.
  if (text.length < DIRECT_STREAM_FROM_BYTES) return new Response(text, { headers });
  const body = new DirectStream({
    type: "direct",
    pull(controller) {
      controller.write(text);
      controller.end();
    },
  });
  return new Response(body, { headers });
}
