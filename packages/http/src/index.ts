export * from "./http-error.ts";
export * from "./problem.ts";
