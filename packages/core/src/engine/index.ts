export * from "./attempts.ts";
export * from "./backoff.ts";
export * from "./planner.ts";
export * from "./replay.ts";
export * from "./run-engine.ts";
export * from "./step-failure.ts";
export * from "./steps.ts";
