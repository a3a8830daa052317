import { dirname, join } from "node:path";
import { openapi } from "@elysiajs/openapi";
import { Elysia, NotFoundError } from "elysia";
import type { ServiceInfo } from "../service-info/controller.ts";
import { fixDocument } from "./document-fixes.ts";

const SPEC_PATH = "/swagger/json";

// Swagger UI is served from the swagger-ui-dist package, never a CDN: it must render offline.
const ASSET_DIR = dirname(Bun.resolveSync("swagger-ui-dist/package.json", import.meta.dir));
const ASSETS = new Set(["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "favicon-16x16.png"]);

export const docsController = (info: ServiceInfo) =>
  new Elysia({ name: "docs" })
    // Local to this instance: it sees the document route of the plugin below, no other route.
    .mapResponse(({ path, responseValue }) => {
      if (path === SPEC_PATH) fixDocument(responseValue);
    })
    .use(
      openapi({
        path: "/swagger",
        specPath: SPEC_PATH,
        provider: "swagger-ui",
        exclude: { paths: [/^\/swagger/] },
        documentation: {
          info: {
            title: info.name,
            version: info.version,
            description:
              "Define workflows, trigger runs, follow their steps. Errors are RFC 9457 problem details; lists use keyset pagination with an opaque cursor.",
          },
          components: {
            securitySchemes: {
              bearer: {
                type: "http",
                scheme: "bearer",
                description:
                  "An API key from `bun run keys create <name> --scopes <scope>,…`. Each operation names the scope it needs (`x-required-scope`); a key without it gets 403, `admin` holds every scope.",
              },
            },
          },
          tags: [
            { name: "workflows", description: "Workflow definitions" },
            { name: "runs", description: "Triggering and following runs" },
            { name: "health", description: "Liveness, readiness, metrics, service info" },
          ],
        },
        swagger: {
          cdn: "/swagger/assets/swagger-ui-bundle.js",
          theme: "/swagger/assets/swagger-ui.css",
          autoDarkMode: false,
        },
      }),
    )
    .get("/swagger/assets/:file", ({ params }) => {
      // An unknown asset is an unknown route: problem+json from the one error handler, as on the
      // Node reference (a bare 404 here was text/plain).
      if (!ASSETS.has(params.file)) throw new NotFoundError();
      return Bun.file(join(ASSET_DIR, params.file));
    });
