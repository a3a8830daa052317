export * from "./filters.ts";
export * from "./run.ts";
export * from "./signal-rules.ts";
export * from "./timeouts.ts";
export * from "./trigger-rules.ts";
