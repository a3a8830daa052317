import { describe, expect, test } from "bun:test";
import { isDatabaseOutage } from "./outage.ts";

const withCode = (code: string) => Object.assign(new Error("x"), { code });

describe("isDatabaseOutage", () => {
  test("connection failures of the driver, the socket and the server are outages", () => {
    for (const code of ["CONNECT_TIMEOUT", "CONNECTION_CLOSED", "ECONNREFUSED", "ECONNRESET", "57P01", "57P03", "53300", "08006", "08P01"])
      expect(isDatabaseOutage(withCode(code))).toBe(true);
  });

  test("errors the database answered about the query itself are not", () => {
    for (const code of ["23505", "22P02", "42601", "40001", ""]) expect(isDatabaseOutage(withCode(code))).toBe(false);
    expect(isDatabaseOutage(new Error("plain"))).toBe(false);
    expect(isDatabaseOutage("a string")).toBe(false);
    expect(isDatabaseOutage(null)).toBe(false);
  });
});
