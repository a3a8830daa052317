export * from "./definition.ts";
export * from "./version.ts";
export * from "./workflow.ts";
