export * from "./cron.ts";
export * from "./schedule.ts";
export * from "./ticks.ts";
