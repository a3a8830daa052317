export * from "./egress.ts";
export * from "./http-step.ts";
