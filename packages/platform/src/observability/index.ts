export * from "./logger.ts";
export * from "./metrics.ts";
export * from "./metrics-server.ts";
export * from "./step-tracing.ts";
export * from "./tracing.ts";
export * from "./tracing-channel.ts";
