export * from "./http-error.ts";
export * from "./json-text.ts";
export * from "./problem.ts";
