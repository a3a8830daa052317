export * from "./run.ts";
export * from "./trigger-rules.ts";
