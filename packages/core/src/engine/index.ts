export * from "./backoff.ts";
export * from "./planner.ts";
export * from "./run-engine.ts";
export * from "./step-failure.ts";
