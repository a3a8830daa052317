export * from "./http-error.ts";
export * from "./json-text.ts";
export * from "./problem.ts";
export * from "./route-table.ts";
export * from "./shared-json.ts";
