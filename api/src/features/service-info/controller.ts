import { integer, oneOf } from "@wf/contract/types";
import { Elysia, t } from "elysia";

export interface ServiceInfo {
  name: string;
  version: string;
  runtime: "bun" | "node";
  runtime_version: string;
}

const Info = t.Object({
  name: t.String(),
  version: t.String(),
  runtime: oneOf(["bun", "node"]),
  runtime_version: t.String(),
  pid: integer(),
  links: t.Object({ docs: t.String(), openapi: t.String(), health: t.String(), metrics: t.String() }),
});

export const serviceInfoController = (info: ServiceInfo) => {
  const body = {
    ...info,
    pid: process.pid,
    links: { docs: "/swagger", openapi: "/swagger/json", health: "/health", metrics: "/metrics" },
  };
  return new Elysia({ name: "service-info" }).get("/", () => body, {
    response: { 200: Info },
    detail: { summary: "Service name, version, runtime and links", tags: ["health"] },
  });
};
