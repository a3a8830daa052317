import { describe, expect, test } from "bun:test";
import { SERVER_BODY_CUTOFF } from "./http/request-body.ts";
import { serveOptions } from "./serve-options.ts";

describe("serveOptions", () => {
  const config = { host: "127.0.0.1", port: 0, idleTimeoutS: 7 };

  test("takes the interface, port and idle timeout from the config, and the body cut-off of http/request-body.ts", () => {
    expect(serveOptions(config)).toMatchObject({ hostname: "127.0.0.1", port: 0, idleTimeout: 7, maxRequestBodySize: SERVER_BODY_CUTOFF });
  });

  test("Bun.serve runs with them out of development mode, whatever NODE_ENV says", () => {
    // bun test sets NODE_ENV=test, in which Bun.serve (and Elysia) would otherwise choose development mode.
    expect(process.env.NODE_ENV).not.toBe("production");
    const server = Bun.serve({ ...serveOptions(config), fetch: () => new Response("ok") });
    try {
      expect(server.development).toBe(false);
    } finally {
      server.stop(true);
    }
  });
});
