import "@elysiajs/openapi";
import { describe, expect, test } from "bun:test";
import { STRING_FORMATS } from "@wf/contract/formats";
import { getSchemaValidator, t } from "elysia";
import { FormatRegistry } from "elysia/type-system";
import { registerStringFormats } from "./schemas.ts";

describe("string formats", () => {
  registerStringFormats();

  test("our checks are the registered ones after the OpenAPI plugin has loaded", () => {
    for (const [name, check] of Object.entries(STRING_FORMATS)) expect(FormatRegistry.Get(name)).toBe(check);
  });

  test("uuid: real UUIDs pass; other shapes, prefixes and impossible variants fail", () => {
    const uuid = getSchemaValidator(t.String({ format: "uuid" }))!;
    expect(uuid.Check("0196c2a8-7c1e-7d43-9a6b-3f0e2b1c4d5e")).toBe(true);
    expect(uuid.Check("0196C2A8-7C1E-4D43-8A6B-3F0E2B1C4D5E")).toBe(true);
    for (const bad of [
      "not-a-uuid",
      "",
      "urn:uuid:0196c2a8-7c1e-7d43-9a6b-3f0e2b1c4d5e",
      "0196c2a8-7c1e-7d43-9a6b-3f0e2b1c4d5",
      "0196c2a8-7c1e-7d43-0a6b-3f0e2b1c4d5e",
    ])
      expect(uuid.Check(bad)).toBe(false);
  });

  test("date-time: RFC 3339 with an offset passes, a bare date does not", () => {
    const ts = getSchemaValidator(t.String({ format: "date-time" }))!;
    expect(ts.Check("2026-11-23T16:40:00.123Z")).toBe(true);
    expect(ts.Check("2026-11-23T16:40:00+02:00")).toBe(true);
    expect(ts.Check("2026-11-23")).toBe(false);
  });
});
