export * from "./bulk.ts";
export * from "./events/index.ts";
export * from "./filter.ts";
export * from "./service.ts";
export * from "./slots.ts";
export * from "./store.ts";
export * from "./stored.ts";
