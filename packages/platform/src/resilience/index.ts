export * from "./breaker.ts";
export * from "./deadline.ts";
export * from "./guard.ts";
