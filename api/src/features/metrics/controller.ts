import type { Services } from "@wf/domain";
import { Elysia } from "elysia";

export const metricsController = ({ metrics }: Services) =>
  new Elysia({ name: "metrics" }).get(
    "/metrics",
    async () =>
      new Response(await metrics.registry.metrics(), { headers: { "content-type": metrics.registry.contentType } }),
    { detail: { summary: "Prometheus metrics (text exposition)", tags: ["health"] } },
  );
