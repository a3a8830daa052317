export * from "./run-events.ts";
export * from "./snapshot.ts";
export * from "./stream.ts";
