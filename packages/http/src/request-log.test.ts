import { describe, expect, test } from "bun:test";
import { createLogger } from "@wf/platform/observability";
import { logRequest } from "./problem.ts";

const capture = (level: "debug" | "info") => {
  const lines: Array<{ level: string; line: Record<string, unknown> }> = [];
  const log = createLogger(level, { component: "api" }, (lvl, line) => lines.push({ level: lvl, line: JSON.parse(line) }));
  return { log, lines };
};
const who = { request_id: "r-1", method: "POST", route: "/api/v1/trigger" };
const req = (status: number) => ({ ...who, status, duration_ms: 1.5 });
const logged = (log: ReturnType<typeof capture>["log"], debug: boolean, status: number) =>
  logRequest(log, debug, status, 0.0015, () => who);

describe("access log", () => {
  test("at debug, one JSON line per request with id, route, status and duration, nothing else", () => {
    const { log, lines } = capture("debug");
    logged(log, true, 202);
    expect(lines).toHaveLength(1);
    const { ts, ...rest } = lines[0]!.line;
    expect(typeof ts).toBe("string");
    expect(rest).toEqual({ level: "debug", msg: "request", component: "api", ...req(202) });
  });

  test("above debug only server errors are logged, as warnings", () => {
    const { log, lines } = capture("info");
    logged(log, false, 200);
    logged(log, false, 422);
    logged(log, false, 503);
    expect(lines.map((l) => [l.level, l.line.status])).toEqual([["warn", 503]]);
  });
});
