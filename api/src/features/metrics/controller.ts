import type { Services } from "@wf/domain";
import { Elysia } from "elysia";
import { API_SECURITY, problemResponses } from "../../http/problem-model.ts";

export const metricsController = ({ metrics }: Services) =>
  new Elysia({ name: "metrics" }).get(
    "/metrics",
    async () =>
      new Response(await metrics.registry.metrics(), { headers: { "content-type": metrics.registry.contentType } }),
    {
      // 401/429 only when METRICS_REQUIRE_KEY; the text body itself has no JSON schema.
      response: problemResponses(401, 429),
      detail: { summary: "Prometheus metrics (text exposition)", tags: ["health"], security: API_SECURITY },
    },
  );
