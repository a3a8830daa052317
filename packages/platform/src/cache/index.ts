export * from "./cache.ts";
export * from "./redis-client.ts";
