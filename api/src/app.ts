import type { ApiServices } from "@wf/services/api-services";
import { errorFields } from "@wf/platform/observability";
import { RouteTable } from "@wf/http";
import { Elysia } from "elysia";
import { docsController } from "./features/docs/controller.ts";
import { healthController } from "./features/health/controller.ts";
import { metricsController } from "./features/metrics/controller.ts";
import { runsController } from "./features/runs/controller.ts";
import { serviceInfoController, type ServiceInfo } from "./features/service-info/controller.ts";
import { workflowsController } from "./features/workflows/controller.ts";
import { jsonBody } from "./http/json-body.ts";
import { accessGuard } from "./http/access-guard.ts";
import { takeHeaders } from "./http/answer-headers.ts";
import { PROBLEM_CONTENT_TYPE, problemHeaders, toProblem } from "./http/problem.ts";
import { requestContext } from "./http/request-context.ts";
import { requestTracing } from "./http/request-tracing.ts";
import { pathOf } from "./http/url-path.ts";
import { registerStringFormats } from "./http/string-formats.ts";

/** The whole HTTP API; `main.ts` gives it services and a port, tests may too. */
export function createApp(services: ApiServices, info: ServiceInfo) {
  registerStringFormats();
  // Built on the first unmatched request, when every route is registered.
  let routes: RouteTable | undefined;
  const allRoutes = () => (routes ??= app.routes.reduce((table, r) => table.add(r.method, r.path), new RouteTable()));
  const app =
    // strictPath: `/api/v1/workflows/` is not the route (on the Node reference neither).
    new Elysia({ precompile: true, normalize: false, strictPath: true })
      .use(requestContext(services.metrics, () => services.health.draining, services.log, services.config.logLevel === "debug"))
      .use(requestTracing(services.tracing))
      .use(accessGuard(services.access))
      .use(jsonBody(services.config.bodyLimitBytes, services.config.jsonMaxDepth))
      // The one error handler: every failure becomes problem+json; only unexpected ones are logged.
      .onError({ as: "global" }, ({ error: thrown, code, set, request }) => {
        // Not found by the router may be a served path asked with another method: a 405.
        const error = (code === "NOT_FOUND" && allRoutes().methodNotAllowed(request.method, pathOf(request.url))) || thrown;
        const p = toProblem(error, code);
        if (p.status >= 500) services.log.error("unhandled error", { ...errorFields(error), path: new URL(request.url).pathname });
        const headers = { ...takeHeaders(set.headers, PROBLEM_CONTENT_TYPE), ...problemHeaders(p, error) };
        set.status = p.status;
        return new Response(JSON.stringify(p), { status: p.status, headers });
      })
      .use(docsController(info))
      .use(serviceInfoController(info))
      .use(healthController(services))
      .use(metricsController(services))
      .use(workflowsController(services))
      .use(runsController(services));
  return app;
}

export type App = ReturnType<typeof createApp>;
