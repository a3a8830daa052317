import { describe, expect, test } from "bun:test";
import { shortFlowNote } from "./compare.ts";
import type { FlowRun } from "./results.ts";

const flows = (...walls: number[]) => walls.map((wall_s) => ({ wall_s }) as FlowRun);

describe("shortFlowNote", () => {
  test("names the range when a measured flow lasted under a second", () => {
    expect(shortFlowNote(flows(0.337, 0.17, 1.2))).toStartWith("The measured flows lasted 0.17–1.20 s:");
  });

  test("says nothing when every flow lasted a second or more, or there was none", () => {
    expect(shortFlowNote(flows(1, 5.4, 6.1))).toBeUndefined();
    expect(shortFlowNote([])).toBeUndefined();
  });
});
