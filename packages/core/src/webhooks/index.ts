export * from "./retry.ts";
export * from "./webhook.ts";
