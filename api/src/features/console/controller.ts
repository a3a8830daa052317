import { Elysia, NotFoundError } from "elysia";
import { buildConsole, type ConsoleBundle } from "./assets.ts";

// Bundled on the first request and kept: a replica that never serves /ui never pays for it.
let bundle: Promise<ConsoleBundle> | undefined;
const console_ = () => {
  bundle ??= buildConsole().catch((e) => {
    bundle = undefined;
    throw e;
  });
  return bundle;
};

// Only this origin's own files, and calls to the API: the key in sessionStorage cannot be read by a
// script from elsewhere, nor sent elsewhere.
const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-cache",
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "referrer-policy": "no-referrer",
};

/**
 * The web console (GET /ui): static files, open like /swagger; every call it makes to /api/v1
 * carries the key typed in the page. Not part of the OpenAPI document.
 */
export const consoleController = () =>
  new Elysia({ name: "console" })
    .get("/ui", async () => new Response((await console_()).html, { headers: PAGE_HEADERS }), { detail: { hide: true } })
    .get(
      "/ui/assets/:file",
      async ({ params }) => {
        const asset = (await console_()).assets.get(params.file);
        if (!asset) throw new NotFoundError();
        // Names carry the content hash: a new build gets new names.
        return new Response(asset.body, {
          headers: { "content-type": asset.type, "cache-control": "public, max-age=31536000, immutable" },
        });
      },
      { detail: { hide: true } },
    );
