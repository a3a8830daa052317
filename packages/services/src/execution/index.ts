// The worker writes a finished run's cached copy as the API reads it.
export { cacheRun } from "../runs/stored.ts";
export * from "./reconciler.ts";
export * from "./store.ts";
export * from "./waiting-runs.ts";
export * from "./waits.ts";
