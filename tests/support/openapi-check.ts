import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

/**
 * Checks answers against the OpenAPI document the server under test publishes: the API does not
 * validate its own responses at run time (too costly on large pages), so the contract suite does,
 * for every answer it receives, on every server it runs against.
 */
interface Doc {
  paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>;
}

const checkers = new Map<
  string,
  Promise<(method: string, path: string, status: number, body: unknown, contentType?: string) => string | null>
>();

const escapePointer = (s: string) => s.replaceAll("~", "~0").replaceAll("/", "~1");

async function build(base: string) {
  const doc = (await (await fetch(`${base}/swagger/json`)).json()) as Doc;
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  // Elysia documents integers as "integer or numeric string"; the format name must be known.
  ajv.addFormat("integer", /^-?\d+$/);
  ajv.addFormat("numeric", /^-?\d+(\.\d+)?$/);
  // Elysia repeats each model's $id wherever the model is used; for ajv they are references only.
  ajv.addSchema(
    JSON.parse(JSON.stringify(doc), (k, v) => (k === "$id" ? undefined : v)),
    "openapi",
  );
  const templates = Object.keys(doc.paths).map((t) => ({ t, re: new RegExp(`^${t.replace(/\{[^}]+\}/g, "[^/]+")}$`) }));
  return (method: string, path: string, status: number, body: unknown, contentType?: string): string | null => {
    // The path as it went out: fetch resolves dot segments (`/runs/./cancel` is sent as `/runs/cancel`).
    const pathname = new URL(path, "http://origin").pathname;
    const match = templates.find(({ re }) => re.test(pathname));
    if (!match) return null; // not an operation of the document (an unknown route's 404)
    const op = doc.paths[match.t]![method.toLowerCase()];
    const response = op?.responses?.[String(status)];
    if (!op) return null;
    if (!response) return `${method} ${match.t} answered ${status}, which its OpenAPI operation does not document`;
    // The media type the answer was sent as must be one the document gives for it.
    const sent = contentType ? contentType.split(";")[0]!.trim().toLowerCase() : undefined;
    const documented = Object.keys(response.content ?? {});
    if (sent && body !== "" && !documented.includes(sent))
      return `${method} ${match.t} ${status} was sent as ${sent}, documented as ${documented.join(", ") || "no content"}`;
    const media = sent ?? documented[0];
    if (!media || body === undefined || body === "") return null;
    const pointer = `openapi#/paths/${escapePointer(match.t)}/${method.toLowerCase()}/responses/${status}/content/${escapePointer(media)}/schema`;
    const validate = ajv.getSchema(pointer);
    if (!validate) return `no schema at ${pointer}`;
    return validate(body) ? null : `${method} ${path} ${status}: ${ajv.errorsText(validate.errors)}`;
  };
}

/** null when the answer matches the server's own OpenAPI document, else what does not. */
export async function checkResponse(
  base: string,
  method: string,
  path: string,
  status: number,
  body: unknown,
  contentType?: string,
): Promise<string | null> {
  let c = checkers.get(base);
  if (!c) {
    c = build(base);
    checkers.set(base, c);
  }
  return (await c)(method, path, status, body, contentType);
}
