import { sharedJson } from "@wf/http";
import { takeHeaders, type SetHeaders } from "./answer-headers.ts";

/**
 * A body over this many bytes goes out as a direct stream: Bun.serve's cork buffer is 16 KiB and
 * the status line and headers share it.
 */
export const DIRECT_STREAM_FROM_BYTES = 15 * 1024;

// Bun's ReadableStream takes a "direct" source; the DOM lib's typing of the global hides that overload.
const DirectStream = ReadableStream as unknown as new (source: Bun.DirectUnderlyingSource<Uint8Array>) => ReadableStream<Uint8Array>;

const JSON_TYPE = "application/json;charset=utf-8";

/**
 * A JSON answer that leaves in one `send()` whatever its size.
 *
 * Bun only corks a socket around the synchronous part of a request handler (oven-sh/bun#41341,
 * open): an answer finished after an `await` whose body does not fit the cork buffer goes out as
 * one `send()` per status line, header name, separator and value (17 for a runs page). That held a
 * 50-run page (22 KB) to 8,897 req/s against Node's 14,942 (oha, 1,000 connections). A direct
 * stream's one write is sent whole, framed chunked, which every HTTP/1.1 client reads; smaller
 * answers keep their content-length. The text is serialized once per page object (sharedJson).
 */
export function jsonAnswer(value: object, set: { headers: SetHeaders }): Response {
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
