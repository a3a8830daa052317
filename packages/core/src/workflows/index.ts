export * from "./definition.ts";
export * from "./workflow.ts";
