export * from "./cursor.ts";
export * from "./page.ts";
export * from "./single-flight.ts";
