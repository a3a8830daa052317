export * from "./run-changes.ts";
export * from "./subscriber.ts";
