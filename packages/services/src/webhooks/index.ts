export * from "./rotation.ts";
export * from "./secret-seal.ts";
export * from "./service.ts";
export * from "./store.ts";
