import { type Treaty, treaty } from "@elysiajs/eden";
// Type-only: the API's code never enters a caller (nor the console's browser bundle), its type does.
import type { App } from "@wf/api/app";

export interface ClientOptions {
  /** An API key sent as `authorization: Bearer <key>`; a function is asked before each request. */
  apiKey?: string | (() => string | undefined);
  /** Another fetch (a test's, a browser's wrapped one). */
  fetch?: typeof fetch;
}

/**
 * The API as a typed object (Eden Treaty): `client.api.v1.runs({ id }).get()` is
 * `GET /api/v1/runs/{id}`, with its body, query, answers and problems typed from the routes' schemas.
 */
export function createClient(baseUrl: string, options: ClientOptions = {}) {
  const { apiKey } = options;
  return treaty<App>(baseUrl, {
    fetcher: options.fetch,
    headers: () => {
      const key = typeof apiKey === "function" ? apiKey() : apiKey;
      return key ? { authorization: `Bearer ${key}` } : undefined;
    },
  });
}

export type Client = ReturnType<typeof createClient>;
export type { Treaty };
