export * from "./client.ts";
export * from "./migrate.ts";
export * from "./outage.ts";
export * from "./read-replica.ts";
export * from "./statement-batcher.ts";
