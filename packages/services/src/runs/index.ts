export * from "./run-cache.ts";
export * from "./service.ts";
export * from "./store.ts";
