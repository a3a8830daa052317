import { BadQuery } from "@wf/http";

/**
 * For routes with a query schema, as a `beforeHandle`: a parameter given twice is a 400. Elysia
 * would keep the last value and Fastify (the Node reference) makes an array the schema refuses;
 * which value the client meant is not for the server to guess.
 */
export function singleValuedQuery({ request }: { request: Request }): void {
  const url = request.url;
  const q = url.indexOf("?");
  if (q < 0) return;
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const key of new URLSearchParams(url.slice(q + 1)).keys()) (seen.has(key) ? repeated : seen).add(key);
  if (repeated.size > 0) throw new BadQuery([...repeated].map((key) => ({ path: `/${key}`, message: "is given more than once" })));
}
