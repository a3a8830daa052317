export * from "./access.ts";
export * from "./api-keys.ts";
export * from "./key-hash.ts";
export * from "./key-store.ts";
export * from "./rate-limiter.ts";
