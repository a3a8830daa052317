import { describe, expect, test } from "bun:test";
import dc from "node:diagnostics_channel";
import { ensureTracingChannelHasSubscribers } from "./tracing-channel.ts";

describe("TracingChannel.hasSubscribers", () => {
  test("is false without subscribers and true with one on any of the five channels, as on Node", () => {
    ensureTracingChannelHasSubscribers();
    ensureTracingChannelHasSubscribers(); // twice is harmless
    for (const event of ["start", "end", "asyncStart", "asyncEnd", "error"] as const) {
      const channel = dc.tracingChannel(`wf:test:${event}`);
      expect(channel.hasSubscribers).toBe(false);
      const handler = () => {};
      channel.subscribe({ [event]: handler });
      expect(channel.hasSubscribers).toBe(true);
      channel.unsubscribe({ [event]: handler });
      expect(channel.hasSubscribers).toBe(false);
    }
  });

  test("a subscriber still receives ioredis's command traces", async () => {
    ensureTracingChannelHasSubscribers();
    const { traceCommand } = (await import("ioredis/built/tracing.js")) as {
      traceCommand: (fn: () => Promise<string>, ctx: () => object) => Promise<string>;
    };
    const seen: string[] = [];
    const handlers = { start: () => seen.push("start"), asyncEnd: () => seen.push("asyncEnd") };
    const channel = dc.tracingChannel("ioredis:command");
    expect(
      await traceCommand(
        () => Promise.resolve("quiet"),
        () => ({}),
      ),
    ).toBe("quiet");
    expect(seen).toEqual([]);
    channel.subscribe(handlers);
    try {
      expect(
        await traceCommand(
          () => Promise.resolve("traced"),
          () => ({}),
        ),
      ).toBe("traced");
    } finally {
      channel.unsubscribe(handlers);
    }
    expect(seen).toEqual(["start", "asyncEnd"]);
  });
});
