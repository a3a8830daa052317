import type { Config } from "@wf/platform/config";
import { SERVER_BODY_CUTOFF } from "./http/request-body.ts";

/**
 * Bun.serve's options for an API replica: `server.ts` listens with them, and so does the tests'
 * in-process API, so that what is tested is what runs.
 */
export const serveOptions = (config: Pick<Config, "host" | "port" | "idleTimeoutS">) => ({
  hostname: config.host,
  port: config.port,
  idleTimeout: config.idleTimeoutS,
  // Elysia turns Bun.serve's development mode on whenever NODE_ENV is not "production". It only
  // renders stack traces for errors that escape the error handler, which an API must never send,
  // and it costs CPU on every request (measured: "Bun.serve's development mode" in bench/FINDINGS.md).
  development: false,
  // Out of the way: http/request-body.ts answers an oversized body with a problem+json 413 itself.
  maxRequestBodySize: SERVER_BODY_CUTOFF,
});
