export * from "./egress.ts";
export * from "./egress-fetch.ts";
export * from "./http-step.ts";
