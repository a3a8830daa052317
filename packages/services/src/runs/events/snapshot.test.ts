import { describe, expect, test } from "bun:test";
import type { RunEventRow } from "../store.ts";
import { changedSlots, eventIdOf, parseEventId, snapshotOf } from "./snapshot.ts";

const row = (over: Partial<RunEventRow> = {}): RunEventRow => ({
  id: "0190b3a2-0000-7000-8000-000000000001",
  workflow_id: "0190b3a2-0000-7000-8000-000000000002",
  workflow_version: 1,
  parent_run_id: null,
  schedule_id: null,
  replay_of: null,
  status: "running",
  output: null,
  error: null,
  steps: [],
  step_names: ["a", "b", "c"],
  created_at: new Date("2026-01-01T00:00:00Z"),
  started_at: new Date("2026-01-01T00:00:01Z"),
  finished_at: null,
  revision: "1",
  settling: false,
  ...over,
});
const step = (name: string, status: "running" | "completed") => ({
  name,
  status,
  attempts: 1,
  started_at: "2026-01-01T00:00:01.000Z",
  finished_at: status === "completed" ? "2026-01-01T00:00:02.000Z" : null,
});

describe("run event snapshots and ids", () => {
  test("steps sit at their definition index, whatever order the run stored them in", () => {
    const snap = snapshotOf(row({ steps: [step("c", "completed"), step("a", "running")] }));
    expect(JSON.parse(snap.items[1]!.data)).toMatchObject({ index: 0, name: "a" });
    expect(snap.items[2]).toBeUndefined();
    expect(JSON.parse(snap.items[3]!.data)).toMatchObject({ index: 2, name: "c" });
    expect(JSON.parse(snap.items[0]!.data)).not.toHaveProperty("steps");
  });

  test("an id is the view it leaves the client with, and parses back to it", () => {
    const view = ["abc123", "", "zz0000"];
    expect(eventIdOf(view)).toBe("abc123------zz0000");
    expect(parseEventId(eventIdOf(view))).toEqual(view);
    expect(parseEventId("")).toEqual([]);
    expect(parseEventId("abc")).toBeUndefined();
    expect(parseEventId("ABC123")).toBeUndefined();
  });

  test("only the slots whose state the view lacks are sent: the run first while it runs, last once it is over", () => {
    const running = snapshotOf(row({ steps: [step("a", "completed"), step("b", "running")] }));
    expect(changedSlots([], running)).toEqual([0, 1, 2]);
    const seen = running.items.map((i) => i?.hash ?? "");
    expect(changedSlots(seen, running)).toEqual([]);
    const done = snapshotOf(
      row({
        status: "completed",
        finished_at: new Date(),
        steps: [step("a", "completed"), step("b", "completed"), step("c", "completed")],
      }),
    );
    expect(changedSlots(seen, done)).toEqual([2, 3, 0]);
  });
});
