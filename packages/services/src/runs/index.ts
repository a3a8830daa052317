export * from "./events/index.ts";
export * from "./service.ts";
export * from "./store.ts";
export * from "./stored.ts";
