export * from "./lifecycle.ts";
export * from "./listeners.ts";
export * from "./periodic.ts";
export * from "./scrape-targets.ts";
export * from "./supervisor.ts";
