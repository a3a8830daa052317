export * from "./service.ts";
export * from "./store.ts";
