import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { QUERY_NUMBER } from "@wf/contract/formats";
import { workflowInputErrors } from "@wf/contract/workflow-errors";
import type { FieldError } from "@wf/core/errors";
import { isUuid } from "@wf/core/ids";
import type { Scope } from "@wf/core/scopes";
import {
  bodyTooLarge,
  internalProblem,
  JSON_MEDIA_TYPE,
  logRequest,
  malformedJson,
  PROBLEM_CONTENT_TYPE,
  type Problem,
  parseJsonBody,
  problemHeaders,
  RouteTable,
  requestId,
  routeNotFound,
  sharedJson,
  sharedProblem,
  unsupportedMediaType,
  validationProblem,
} from "@wf/http";
import { definitionLimits } from "@wf/platform/config";
import { errorFields } from "@wf/platform/observability";
import { routeScope } from "@wf/services/access";
import type { ApiServices } from "@wf/services/api-services";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { fastifyPath, type OpenApiDoc, routeSchemas, servedDocument } from "./contract.ts";
import { traceHeaders, traceRequests } from "./request-tracing.ts";

export interface ServiceInfo {
  name: string;
  version: string;
  runtime: "node";
  runtime_version: string;
}

const ASSET_DIR = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const ASSETS: Record<string, string> = {
  "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
  "swagger-ui.css": "text/css; charset=utf-8",
  "favicon-32x32.png": "image/png",
  "favicon-16x16.png": "image/png",
};
const SWAGGER_HTML = (title: string) => `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8" /><meta name="viewport" content="width=device-width, initial-scale=1" />
<title>${title}</title><link rel="stylesheet" href="/swagger/assets/swagger-ui.css" /></head>
<body><div id="swagger-ui"></div><script src="/swagger/assets/swagger-ui-bundle.js"></script>
<script>window.onload = () => { window.ui = SwaggerUIBundle({ url: "/swagger/json", dom_id: "#swagger-ui" }); };</script>
</body></html>`;

type Where = "body" | "params" | "query";
const CONTEXT: Record<string, Where> = { body: "body", params: "params", querystring: "query" };

/** ajv's errors as the same {path, message} list Elysia gives. */
function fieldErrors(err: FastifyError): FieldError[] {
  return (err.validation ?? []).map((v) => {
    const p = v.params as { missingProperty?: string; additionalProperty?: string };
    const extra = p.missingProperty ?? p.additionalProperty;
    return { path: `${v.instancePath}${extra ? `/${extra}` : ""}`, message: v.message ?? "invalid" };
  });
}

/** A route's own account of its body's schema failures (see @wf/contract/workflow-errors). */
type BodyErrors = (body: unknown, schemaErrors: FieldError[]) => FieldError[];

/** Fastify's own errors; the shared ones are decided in @wf/http. */
function toProblem(err: unknown, bodyLimit: number, req?: FastifyRequest): Problem {
  const shared = sharedProblem(err);
  if (shared) return shared;
  const e = err as FastifyError;
  if (e.validation) {
    const where = CONTEXT[e.validationContext ?? "body"] ?? "body";
    const explain = where === "body" ? (req?.routeOptions.config as { bodyErrors?: BodyErrors } | undefined)?.bodyErrors : undefined;
    return validationProblem(where, explain ? explain(req?.body, fieldErrors(e)) : fieldErrors(e));
  }
  switch (e.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return sharedProblem(bodyTooLarge(bodyLimit)) ?? internalProblem;
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return sharedProblem(unsupportedMediaType(null)) ?? internalProblem;
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return sharedProblem(malformedJson()) ?? internalProblem;
  }
  return internalProblem;
}

/**
 * Reads and discards what is left of a body Fastify refused as too large, up to `drainBytes` in
 * all, before the 413 (sent with `connection: close`): a client that writes the whole body before
 * reading (no `Expect: 100-continue`) otherwise hits a closed socket mid-write and never sees the
 * answer. A body declared larger is not read at all. (Node closes the socket after a
 * `connection: close` answer, so nothing past this is read.)
 */
function drainRefused(req: FastifyRequest, limit: number, drainBytes: number): Promise<void> {
  const raw = req.raw;
  const declared = Number(req.headers["content-length"] ?? "0");
  if (raw.readableEnded || raw.destroyed || declared > drainBytes) return Promise.resolve();
  return new Promise((resolve) => {
    // A declared length over the limit was refused unread; a chunked body, just past the limit.
    let read = req.headers["content-length"] === undefined ? limit : 0;
    const stop = () => {
      raw.off("data", onData).off("end", stop).off("error", stop).off("close", stop);
      raw.pause();
      resolve();
    };
    const onData = (chunk: Buffer) => {
      read += chunk.byteLength;
      if (read > drainBytes) stop();
    };
    raw.on("data", onData).on("end", stop).on("error", stop).on("close", stop);
    raw.resume();
  });
}

/** Every endpoint of the contract on Fastify, over the same domain services as the Bun API. */
export function createApp(services: ApiServices, info: ServiceInfo, doc: OpenApiDoc): FastifyInstance {
  const { config, workflows, runs, health, metrics, log } = services;
  const app = Fastify({
    bodyLimit: config.bodyLimitBytes,
    // The same rules as Elysia with `normalize: false`: extra fields are errors, nothing is coerced.
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: true, strict: false },
      // ajv-formats' uuid takes any version and variant digit and a `urn:uuid:` prefix; the Bun API
      // checks the domain's own (strict) rule, so an id one server rejects the other must too.
      onCreate: (ajv) => ajv.addFormat("uuid", isUuid),
    },
    return503OnClosing: false,
    // The same patience as the Bun API (HTTP_IDLE_TIMEOUT_S): Node's own defaults would cut a
    // connection whose next request has waited 60 s for its headers to be read (headersTimeout).
    keepAliveTimeout: config.idleTimeoutS * 1000,
    requestTimeout: config.idleTimeoutS * 1000,
    requestIdHeader: false,
    logger: false,
    // A path that does not decode (`/api/v1/runs/%ZZ`) or a parameter over the router's length
    // limit never reaches a route, and Fastify answered these with its own JSON (400 and 414).
    // Neither can name a resource: 404 problem+json, as the Bun API answers the same paths.
    frameworkErrors: (_err, req, reply) => {
      reply.header("x-request-id", requestId(req.headers["x-request-id"] as string | undefined));
      return sendProblem(reply, validationProblem("params", []));
    },
  });
  // Every route as it is added, so that an unmatched request can be a 405 (see setNotFoundHandler).
  const routes = new RouteTable();
  app.addHook("onRoute", (r) => {
    for (const method of [r.method].flat()) routes.add(method, r.url);
  });

  // JSON or nothing, as on the Bun API: another media type is a 415, a body over the limit a 413,
  // JSON that does not parse or nests deeper than JSON_MAX_DEPTH a 400.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (req, _payload, done) => {
    const type = req.headers["content-type"] ?? "";
    done(JSON_MEDIA_TYPE.test(type) ? null : unsupportedMediaType(type || null), undefined);
  });
  app.addContentTypeParser(JSON_MEDIA_TYPE, { parseAs: "string", bodyLimit: config.bodyLimitBytes }, (_req, text, done) => {
    const body = text as string;
    if (body.length === 0) return done(null, undefined);
    try {
      done(null, parseJsonBody(body, config.jsonMaxDepth));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  traceRequests(app, services.tracing);
  const started = new WeakMap<FastifyRequest, number>();
  app.addHook("onRequest", async (req, reply) => {
    reply.header("x-request-id", requestId(req.headers["x-request-id"] as string | undefined));
    if (health.draining) reply.header("connection", "close");
    started.set(req, performance.now());
    metrics.inFlight.inc();
    // Query numbers arrive as text: convert them before validation, as Elysia decodes t.Numeric.
    const q = req.query as Record<string, unknown> | undefined;
    if (q && typeof q.limit === "string" && QUERY_NUMBER.test(q.limit)) q.limit = Number(q.limit);
  });
  const { access } = services;
  // API keys, rate limits and the route's scope (from the document, as `route` below keeps it)
  // before the body is read; no hook at all when keys are not required.
  if (access)
    app.addHook("onRequest", async (req) => {
      if (!access.guards(req.url.split("?", 1)[0]!)) return;
      await access.admit(req.headers.authorization ?? null, (req.routeOptions.config as { scope?: Scope } | undefined)?.scope);
    });
  app.addHook("onResponse", async (req, reply) => {
    metrics.inFlight.dec();
    const t0 = started.get(req);
    if (t0 === undefined) return;
    const seconds = (performance.now() - t0) / 1000;
    const route = req.routeOptions.url ?? "unmatched";
    metrics.httpDuration.observe({ method: req.method, route, status: String(reply.statusCode) }, seconds);
    logRequest(log, config.logLevel === "debug", reply.statusCode, seconds, () => ({
      request_id: String(reply.getHeader("x-request-id")),
      method: req.method,
      route,
    }));
  });

  const sendProblem = (reply: FastifyReply, p: Problem, err?: unknown) => {
    reply.headers(problemHeaders(p, err));
    return reply.code(p.status).header("content-type", PROBLEM_CONTENT_TYPE).send(JSON.stringify(p));
  };
  // A request no route matched is a 404, or a 405 on a path served with other methods.
  const unmatched = (req: FastifyRequest, reply: FastifyReply) => {
    const wrongMethod = routes.methodNotAllowed(req.method, req.url.split("?", 1)[0]!);
    return sendProblem(reply, wrongMethod ? toProblem(wrongMethod, config.bodyLimitBytes) : routeNotFound, wrongMethod);
  };
  app.setErrorHandler((err, req, reply) => {
    // Whatever else is wrong with it: Fastify checks an unmatched QUERY's content type before the
    // not-found handler runs, and that was a 500 (the Bun API answers 405 there).
    if (req.is404) return unmatched(req, reply);
    const p = toProblem(err, config.bodyLimitBytes, req);
    if (p.status >= 500) log.error("unhandled error", { ...errorFields(err), path: req.url });
    if (p.status === 413) return drainRefused(req, config.bodyLimitBytes, config.bodyDrainBytes).then(() => sendProblem(reply, p, err));
    return sendProblem(reply, p, err);
  });
  app.setNotFoundHandler(unmatched);

  // The operations of the document this server serves: it publishes only those (see servedDocument).
  const served = new Set<string>();
  const route = (
    method: "GET" | "POST" | "PUT" | "DELETE",
    path: string,
    handler: (req: FastifyRequest, reply: FastifyReply) => unknown,
    bodyErrors?: BodyErrors,
  ) => {
    served.add(`${method} ${path}`);
    app.route({
      method,
      url: fastifyPath(path),
      schema: routeSchemas(doc, path, method),
      handler: handler as never,
      config: { bodyErrors, scope: routeScope(path, doc.paths[path]?.[method.toLowerCase()]?.["x-required-scope"]) },
    });
  };
  // A workflow body that breaks its schema inside the steps is answered with the core's field errors.
  const limits = definitionLimits(config);
  const workflowBody: BodyErrors = (body, errors) => workflowInputErrors(body, errors, limits);
  type Q = Record<string, never>;
  // A list page is shared by the requests that asked while its query ran: its text is too (as on Bun).
  const sendShared = (reply: FastifyReply, page: object) =>
    reply.header("content-type", "application/json; charset=utf-8").send(sharedJson(page));

  const infoBody = {
    ...info,
    pid: process.pid,
    links: { docs: "/swagger", openapi: "/swagger/json", health: "/health", metrics: "/metrics" },
  };
  route("GET", "/", async () => infoBody);
  route("GET", "/health", async () => ({ status: "ok" }));
  route("GET", "/health/ready", async (_req, reply) => {
    const r = await health.readiness();
    if (!r.ready) reply.code(503).header("retry-after", "5");
    return { status: r.status, checks: r.checks };
  });
  route("GET", "/metrics", async (_req, reply) =>
    reply.header("content-type", metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  route("POST", "/api/v1/workflows", async (req, reply) => reply.code(201).send(await workflows.create(req.body as never)), workflowBody);
  route("GET", "/api/v1/workflows", async (req, reply) => sendShared(reply, await workflows.list(req.query as Q)));
  route("GET", "/api/v1/workflows/{id}", async (req) => workflows.get((req.params as { id: string }).id));
  route(
    "PUT",
    "/api/v1/workflows/{id}",
    async (req) => workflows.replace((req.params as { id: string }).id, req.body as never),
    workflowBody,
  );
  route("DELETE", "/api/v1/workflows/{id}", async (req, reply) => {
    await workflows.remove((req.params as { id: string }).id);
    return reply.code(204).send();
  });
  route("POST", "/api/v1/trigger", async (req, reply) => {
    const { run, created } = await runs.trigger(req.body as never, traceHeaders(req));
    if (!created) reply.header("idempotent-replayed", "true");
    return reply.code(202).send({ run_id: run.id, status: run.status });
  });
  route("GET", "/api/v1/runs/{id}", async (req) => runs.get((req.params as { id: string }).id));
  route("GET", "/api/v1/runs", async (req, reply) => sendShared(reply, await runs.list(req.query as Q)));
  route("POST", "/api/v1/runs/{id}/cancel", async (req) => runs.cancel((req.params as { id: string }).id));

  const published = JSON.stringify(servedDocument(doc, served));
  app.get("/swagger", async (_req, reply) => reply.header("content-type", "text/html; charset=utf-8").send(SWAGGER_HTML(info.name)));
  app.get("/swagger/json", async (_req, reply) => reply.header("content-type", "application/json").send(published));
  app.get("/swagger/assets/:file", async (req, reply) => {
    const file = (req.params as { file: string }).file;
    const type = ASSETS[file];
    if (!type) return sendProblem(reply, routeNotFound);
    return reply.header("content-type", type).send(readFileSync(join(ASSET_DIR, file)));
  });
  app.server.headersTimeout = config.idleTimeoutS * 1000;
  return app;
}
