export * from "./kafka.ts";
export * from "./kafkajs-internals.ts";
export * from "./outbox.ts";
export * from "./partitioner.ts";
export * from "./publisher.ts";
