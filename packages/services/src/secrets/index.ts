export * from "./reader.ts";
export * from "./rotation.ts";
export * from "./service.ts";
export * from "./store.ts";
