export * from "./definition.ts";
export * from "./flow-control.ts";
export * from "./version.ts";
export * from "./workflow.ts";
