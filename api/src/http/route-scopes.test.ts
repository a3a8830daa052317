import { describe, expect, test } from "bun:test";
import { RouteScopes } from "./route-scopes.ts";

const route = (method: string, path: string, scope?: string) => ({
  method,
  path,
  hooks: { detail: scope ? { "x-required-scope": scope } : {} },
});

describe("RouteScopes", () => {
  const table = new RouteScopes([
    route("GET", "/api/v1/runs/:id", "runs:read"),
    route("GET", "/api/v1/runs/stats", "admin"),
    route("POST", "/api/v1/runs/:id/cancel", "runs:write"),
    route("GET", "/api/v1/forgotten"),
    route("GET", "/health"),
    route("GET", "/api/v1/typo", "runs:lookup"),
  ]);

  test("by method and path pattern; HEAD as GET", () => {
    expect(table.of("GET", "/api/v1/runs/abc")).toBe("runs:read");
    expect(table.of("HEAD", "/api/v1/runs/abc")).toBe("runs:read");
    expect(table.of("POST", "/api/v1/runs/abc/cancel")).toBe("runs:write");
  });

  test("a static segment wins over a parameter, in either order of registration", () => {
    expect(table.of("GET", "/api/v1/runs/stats")).toBe("admin");
    const reversed = new RouteScopes([route("GET", "/api/v1/runs/stats", "admin"), route("GET", "/api/v1/runs/:id", "runs:read")]);
    expect(reversed.of("GET", "/api/v1/runs/stats")).toBe("admin");
    expect(reversed.of("GET", "/api/v1/runs/x")).toBe("runs:read");
  });

  test("an /api route that declares no (known) scope needs admin; others and unmatched paths need none", () => {
    expect(table.of("GET", "/api/v1/forgotten")).toBe("admin");
    expect(table.of("GET", "/api/v1/typo")).toBe("admin");
    expect(table.of("GET", "/health")).toBeUndefined();
    expect(table.of("DELETE", "/api/v1/runs/abc")).toBeUndefined();
    expect(table.of("GET", "/api/v1/runs/")).toBeUndefined();
    expect(table.of("GET", "/api/v1/nothing/here")).toBeUndefined();
  });
});
