import { bodyTooLarge, JSON_MEDIA_TYPE, parseJsonBody, unsupportedMediaType } from "@wf/http";
import { Elysia } from "elysia";

const hasBody = (req: Request): boolean => {
  const len = req.headers.get("content-length");
  return len !== null ? len !== "0" : req.headers.has("transfer-encoding");
};

/**
 * For Bun.serve's maxRequestBodySize. Bun's own cut-off responds with a bare 413, without problem+json
 * (a 14 MB body found it), so it is kept out of the way: this parser enforces the limit itself,
 * on the declared length before reading anything and on the bytes as they stream in.
 */
export const SERVER_BODY_CUTOFF = Number.MAX_SAFE_INTEGER;

/**
 * Reads and discards the rest of a refused body, up to `drainBytes` in all, before the 413 (which
 * closes the connection). A client that writes the whole body before reading (no
 * `Expect: 100-continue`: Python's urllib and requests) otherwise hits a closed socket mid-write and
 * never sees the answer. A body known to be larger is not read at all: the close is all it gets.
 */
async function drainThenRefuse(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  read: number,
  limit: number,
  drainBytes: number,
): Promise<never> {
  while (read <= drainBytes) {
    const { done, value } = await reader.read();
    if (done) break;
    read += value.byteLength;
  }
  await reader.cancel();
  throw bodyTooLarge(limit);
}

/** The body, read no further than `limit` bytes: a chunked upload cannot make us buffer more. */
async function readAtMost(request: Request, limit: number, drainBytes: number): Promise<Uint8Array> {
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) return drainThenRefuse(reader, size, limit, drainBytes);
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/**
 * A declared length over the limit: drained when within `drainBytes`. Even with
 * `Expect: 100-continue`: Bun.serve has answered `100 Continue` before the parser runs.
 */
async function refuseDeclared(request: Request, declared: number, limit: number, drainBytes: number): Promise<never> {
  if (declared > drainBytes || request.body === null) throw bodyTooLarge(limit);
  return drainThenRefuse(request.body.getReader(), 0, limit, drainBytes);
}

/**
 * Elysia 1.4 words a type mismatch as `… but found: ${value}`. For an object whose own `toString`
 * key holds data (`{"toString": "x"}` is valid JSON, and fine as a trigger's input) that string
 * conversion throws a TypeError inside Elysia, and a 422 became a 500. Such objects get a
 * non-enumerable Symbol.toPrimitive, which string conversion prefers and nothing else sees:
 * JSON.stringify, Object.keys/entries, structuredClone and the schema checks read string keys only.
 */
const PRINTABLE: PropertyDescriptor = { value: () => "[object Object]", enumerable: false };

/** Only text that can spell the key (literally or through \u escapes) needs the walk. */
const mayHoldToString = (text: string): boolean => text.includes("toString") || text.includes("\\u");

/** Marks every object of a parsed JSON value that owns a `toString` key; walks without recursion. */
function makePrintable<T>(value: T): T {
  const todo: unknown[] = [value];
  while (todo.length > 0) {
    const v = todo.pop();
    if (v === null || typeof v !== "object") continue;
    if (Array.isArray(v)) todo.push(...v);
    else {
      if (Object.hasOwn(v, "toString")) Object.defineProperty(v, Symbol.toPrimitive, PRINTABLE);
      todo.push(...Object.values(v));
    }
  }
  return value;
}

/**
 * What an absent or empty body parses to. Not undefined: Elysia would then run a route's own
 * `parse: "json"`, which answered 400 where the Node reference (and the schema) say 422.
 */
const NO_BODY = null;

/**
 * The only body parser: JSON or nothing. A body in any other media type is a 415, one over the
 * limit a 413 (checked on the declared length first, then while reading, for chunked uploads;
 * drained up to `drainBytes` first, see drainThenRefuse), and JSON that does not parse or nests
 * deeper than `maxDepth` a 400 — each as problem+json via the error handler.
 */
export const jsonBody = (limitBytes: number, maxDepth: number, drainBytes: number) =>
  new Elysia({ name: "json-body", seed: `${limitBytes}:${maxDepth}:${drainBytes}` }).onParse({ as: "global" }, async ({ request }) => {
    const type = request.headers.get("content-type");
    // A declared media type is checked even without a body, as Fastify does on the Node reference.
    if (type !== null && !JSON_MEDIA_TYPE.test(type)) throw unsupportedMediaType(type);
    if (!hasBody(request)) return NO_BODY;
    if (type === null) throw unsupportedMediaType(type);
    const declared = Number(request.headers.get("content-length") ?? "0");
    if (declared > limitBytes) return refuseDeclared(request, declared, limitBytes, drainBytes);
    // A declared length is what arrives (HTTP framing), so the cheaper whole-buffer read is safe;
    // only a chunked upload is read piece by piece against the limit.
    const bytes = request.headers.has("content-length")
      ? new Uint8Array(await request.arrayBuffer())
      : await readAtMost(request, limitBytes, drainBytes);
    if (bytes.byteLength === 0) return NO_BODY;
    // The byte order mark is left for parseJsonBody, which treats it as the Node reference does.
    const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
    const value = parseJsonBody(text, maxDepth);
    return mayHoldToString(text) ? makePrintable(value) : value;
  });
