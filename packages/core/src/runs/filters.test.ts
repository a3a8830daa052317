import { describe, expect, test } from "bun:test";
import { isEmptyFilter, parseRunFilter, RFC3339_PATTERN, runFilterScope, statusListPattern } from "./filters.ts";
import { parseRfc3339 } from "./trigger-rules.ts";

const WF = "0190a000-0000-7000-8000-000000000001";

describe("parseRunFilter", () => {
  test("statuses: distinct, in their canonical order, whatever the order named", () => {
    expect(parseRunFilter({ status: "running,pending,running" })).toEqual({ filter: { status: ["pending", "running"] }, errors: [] });
    expect(parseRunFilter({ status: "failed" })).toEqual({ filter: { status: ["failed"] }, errors: [] });
  });

  test("a bad status, an empty item, a status outside those allowed: an error at /status", () => {
    for (const status of ["finished", "pending,", "", ",running", "PENDING"])
      expect(parseRunFilter({ status }).errors.map((e) => e.path)).toEqual(["/status"]);
    expect(parseRunFilter({ status: "pending,completed" }, ["pending", "running"]).errors.map((e) => e.path)).toEqual(["/status"]);
  });

  test("ids must be UUIDs; kept in lower case", () => {
    expect(parseRunFilter({ workflow_id: WF.toUpperCase(), schedule_id: WF, parent_run_id: WF })).toEqual({
      filter: { workflowId: WF, scheduleId: WF, parentRunId: WF },
      errors: [],
    });
    expect(parseRunFilter({ workflow_id: "x", schedule_id: "1", parent_run_id: "" }).errors.map((e) => e.path)).toEqual([
      "/workflow_id",
      "/schedule_id",
      "/parent_run_id",
    ]);
  });

  test("created bounds: RFC 3339 with an offset; finer than a millisecond rounds so the comparison stays exact", () => {
    const r = parseRunFilter({ created_after: "2026-01-01T00:00:00.1239Z", created_before: "2026-01-01T01:00:00.1231+01:00" });
    expect(r).toEqual({
      filter: { createdAfter: new Date("2026-01-01T00:00:00.123Z"), createdBefore: new Date("2026-01-01T00:00:00.124Z") },
      errors: [],
    });
    const whole = parseRunFilter({ created_before: "2026-01-01T00:00:00.123000Z" });
    expect("filter" in whole && whole.filter.createdBefore).toEqual(new Date("2026-01-01T00:00:00.123Z"));
    for (const bad of ["2026-02-30T00:00:00Z", "2026-01-01 00:00:00Z", "2026-01-01T00:00:00", "yesterday", "2026-01-01T24:00:00Z"])
      expect(parseRunFilter({ created_after: bad }).errors.map((e) => e.path)).toEqual(["/created_after"]);
  });

  test("isEmptyFilter: only when nothing narrows", () => {
    expect(isEmptyFilter({})).toBe(true);
    expect(isEmptyFilter({ status: ["pending"] })).toBe(false);
    expect(isEmptyFilter({ createdBefore: new Date() })).toBe(false);
  });
});

describe("the schemas' patterns accept what parseRunFilter accepts", () => {
  test("status lists", () => {
    const re = new RegExp(statusListPattern());
    for (const s of ["pending", "pending,running", "failed,failed", "cancelled,completed,failed,pending,running"]) {
      expect(re.test(s)).toBe(true);
      expect(parseRunFilter({ status: s }).errors).toEqual([]);
    }
    for (const s of ["", "pending,", "x", "pending running", "Pending"]) {
      expect(re.test(s)).toBe(false);
      expect(parseRunFilter({ status: s }).errors).not.toEqual([]);
    }
    expect(new RegExp(statusListPattern(["pending", "running"])).test("running,completed")).toBe(false);
  });

  test("date-times: the pattern refuses what parseRfc3339 refuses, but for the calendar (the date-time format's part)", () => {
    const re = new RegExp(RFC3339_PATTERN);
    for (const s of ["2026-01-01T00:00:00Z", "2026-01-01t00:00:00.123456789z", "2026-12-31T23:59:59-23:59"]) {
      expect(re.test(s)).toBe(true);
      expect(parseRfc3339(s)).toBeDefined();
    }
    for (const s of [
      "2026-01-01T24:00:00Z",
      "2026-01-01T00:60:00Z",
      "2026-01-01T23:59:60Z",
      "2026-01-01T00:00:00+24:00",
      "2026-13-01T00:00:00Z",
    ]) {
      expect(re.test(s)).toBe(false);
      expect(parseRfc3339(s)).toBeUndefined();
    }
  });
});

describe("runFilterScope", () => {
  test("the v1 filters keep the v1 scope; any other filter makes it another", () => {
    expect(runFilterScope({})).toBe("runs::");
    expect(runFilterScope({ status: ["pending"], workflowId: WF })).toBe(`runs:pending:${WF}`);
    const scopes = [
      {},
      { status: ["pending", "running"] as const },
      { scheduleId: WF },
      { parentRunId: WF },
      { createdAfter: new Date(1) },
      { createdBefore: new Date(1) },
      { createdAfter: new Date(2) },
    ].map((f) => runFilterScope(f));
    expect(new Set(scopes).size).toBe(scopes.length);
  });
});
