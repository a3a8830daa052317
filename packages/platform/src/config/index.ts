export * from "./load.ts";
export * from "./parse.ts";
export * from "./settings.ts";
