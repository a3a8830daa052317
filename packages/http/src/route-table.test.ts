import { describe, expect, test } from "bun:test";
import { MethodNotAllowed } from "./http-error.ts";
import { problemHeaders, sharedProblem } from "./problem.ts";
import { RouteTable } from "./route-table.ts";

const table = new RouteTable()
  .add("GET", "/api/v1/runs/:id")
  .add("post", "/api/v1/runs/:id/cancel")
  .add("GET", "/api/v1/workflows")
  .add("POST", "/api/v1/workflows")
  .add("POST", "/api/v1/trigger");

describe("RouteTable", () => {
  test("a served path asked with another method is a 405 naming the methods it answers, HEAD with GET", () => {
    const err = table.methodNotAllowed("DELETE", "/api/v1/workflows");
    expect(err).toBeInstanceOf(MethodNotAllowed);
    expect(err?.allow).toEqual(["GET", "HEAD", "POST"]);
    expect(table.methodNotAllowed("GET", "/api/v1/trigger")?.allow).toEqual(["POST"]);
    expect(table.methodNotAllowed("trace", "/api/v1/runs/anything")?.allow).toEqual(["GET", "HEAD"]);
    expect(table.methodNotAllowed("GET", "/api/v1/runs/x/cancel")?.allow).toEqual(["POST"]);
  });

  test("a method the path answers, or a path nobody serves, is left to the 404", () => {
    expect(table.methodNotAllowed("HEAD", "/api/v1/workflows")).toBeUndefined();
    expect(table.methodNotAllowed("get", "/api/v1/runs/x")).toBeUndefined();
    expect(table.methodNotAllowed("GET", "/api/v1/nothing")).toBeUndefined();
    // Paths are strict: a trailing slash or an empty parameter is another path.
    expect(table.methodNotAllowed("DELETE", "/api/v1/workflows/")).toBeUndefined();
    expect(table.methodNotAllowed("PUT", "/api/v1/runs/")).toBeUndefined();
    expect(table.methodNotAllowed("PUT", "/api/v1/runs/x/y")).toBeUndefined();
  });

  test("answers as a problem with an Allow header", () => {
    const err = table.methodNotAllowed("PUT", "/api/v1/trigger")!;
    const p = sharedProblem(err);
    expect(p).toEqual({
      type: "https://workflow-service.dev/problems/method-not-allowed",
      title: "Method Not Allowed",
      status: 405,
      detail: "this path answers POST only",
    });
    expect(problemHeaders(p!, err)).toEqual({ allow: "POST" });
  });
});
