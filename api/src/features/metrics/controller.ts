import { API_SECURITY, problemResponses } from "@wf/contract/problem";
import type { ApiServices } from "@wf/services/api-services";
import { Elysia, t } from "elysia";

export const metricsController = ({ metrics }: ApiServices) =>
  new Elysia({ name: "metrics" }).get(
    "/metrics",
    async () => new Response(await metrics.registry.metrics(), { headers: { "content-type": metrics.registry.contentType } }),
    {
      // 401/429 only when METRICS_REQUIRE_KEY. A string schema is documented as text/plain; the
      // handler answers a Response, which Elysia passes on without checking it against the schema.
      response: { 200: t.String({ description: "Prometheus text exposition format 0.0.4" }), ...problemResponses(401, 429) },
      detail: { summary: "Prometheus metrics (text exposition)", tags: ["health"], security: API_SECURITY },
    },
  );
