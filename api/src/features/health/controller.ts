import { oneOf } from "@wf/contract/types";
import type { ApiServices } from "@wf/services/api-services";
import { Elysia, t } from "elysia";

const State = oneOf(["up", "down"]);
const Readiness = t.Object({
  status: oneOf(["ok", "unavailable", "draining"]),
  // postgres_replica: only with DATABASE_READ_URL, and never makes the process unready (reads fall back to the primary)
  checks: t.Object({ postgres: State, redis: State, kafka: State, postgres_replica: t.Optional(State) }),
});

export const healthController = ({ health, config }: ApiServices) =>
  new Elysia({ name: "health", prefix: "/health", detail: { tags: ["health"] } })
    .get("", () => ({ status: "ok" as const }), {
      response: { 200: t.Object({ status: t.Literal("ok") }) },
      detail: { summary: "Liveness; touches no dependency" },
    })
    .get(
      "/ready",
      async ({ status, set }) => {
        const r = await health.readiness();
        if (r.ready) return { status: r.status, checks: r.checks };
        set.headers["retry-after"] = "5";
        return status(503, { status: r.status, checks: r.checks });
      },
      {
        response: { 200: Readiness, 503: Readiness },
        detail: {
          summary: "Readiness of PostgreSQL, Redis and Kafka",
          description: `503 when a required dependency (${config.readyRequires.join(", ")}) is down (the others are reported only), or while the process drains before it stops.`,
        },
      },
    );
