import { RouteTable } from "@wf/http";
import { definitionLimits } from "@wf/platform/config";
import type { ApiServices } from "@wf/services/api-services";
import { Elysia } from "elysia";
import { consoleController } from "./features/console/controller.ts";
import { docsController } from "./features/docs/controller.ts";
import { healthController } from "./features/health/controller.ts";
import { metricsController } from "./features/metrics/controller.ts";
import { runsController } from "./features/runs/controller.ts";
import { schedulesController } from "./features/schedules/controller.ts";
import { secretsController } from "./features/secrets/controller.ts";
import { type ServiceInfo, serviceInfoController } from "./features/service-info/controller.ts";
import { webhooksController } from "./features/webhooks/controller.ts";
import { workflowsController } from "./features/workflows/controller.ts";
import { workflowBodyErrors } from "./features/workflows/model.ts";
import { handleError } from "./http/errors.ts";
import { jsonBody } from "./http/request-body.ts";
import { accessGuard, requestContext, requestTracing } from "./http/request-hooks.ts";
import { RouteScopes } from "./http/route-scopes.ts";
import { registerStringFormats } from "./http/schemas.ts";

/** The whole HTTP API; `server.ts` gives it services and a port, tests may too. */
export function createApp(services: ApiServices, info: ServiceInfo) {
  registerStringFormats();
  // Built on the first unmatched request, when every route is registered.
  let routes: RouteTable | undefined;
  const allRoutes = (): RouteTable => (routes ??= app.routes.reduce((table, r) => table.add(r.method, r.path), new RouteTable()));
  let scopes: RouteScopes | undefined;
  const routeScopes = (): RouteScopes => (scopes ??= new RouteScopes(app.routes));
  const app =
    // strictPath: `/api/v1/workflows/` is not the route (on the Node reference neither).
    new Elysia({ precompile: true, normalize: false, strictPath: true })
      .use(requestContext(services.metrics, () => services.health.draining, services.log, services.config.logLevel === "debug"))
      .use(requestTracing(services.tracing))
      .use(accessGuard(services.access, routeScopes))
      .use(jsonBody(services.config.bodyLimitBytes, services.config.jsonMaxDepth, services.config.bodyDrainBytes))
      .onError({ as: "global" }, handleError(services.log, allRoutes, [workflowBodyErrors(definitionLimits(services.config))]))
      .use(docsController(info))
      .use(consoleController())
      .use(serviceInfoController(info))
      .use(healthController(services))
      .use(metricsController(services))
      .use(workflowsController(services))
      .use(runsController(services))
      .use(schedulesController(services))
      .use(webhooksController(services))
      .use(secretsController(services));
  return app;
}

export type App = ReturnType<typeof createApp>;
