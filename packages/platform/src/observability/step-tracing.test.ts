import { describe, expect, test } from "bun:test";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { type EngineDeps, executeRun, StepFailure } from "@wf/core/engine";
import { traceSteps } from "./step-tracing.ts";
import { Tracing } from "./tracing.ts";

describe("traceSteps", () => {
  test("one span per executed step, child of the message span, with name, type, attempts and status", async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = new Tracing(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
    const parent = tracing.startConsumerSpan("runs", undefined, {});
    // fetch fails once and succeeds on its retry; boom fails for good.
    let calls = 0;
    const deps: EngineDeps = {
      http: async () => {
        calls++;
        if (calls === 2) return { status: 200, headers: {}, body: null };
        throw new StepFailure(calls === 1 ? "503" : "gone", calls === 1);
      },
      sleep: async () => {},
      log: () => {},
      random: () => 0.5,
      stepStarted: traceSteps(tracing, parent, "r1"),
    };
    const out = await executeRun(
      {
        runId: "r1",
        steps: [
          { name: "fetch", type: "http", config: { method: "GET", url: "http://x.test/" }, retry: { max_attempts: 2, backoff_ms: 1 } },
          { name: "shape", type: "transform", config: { output: { ok: true } } },
          { name: "boom", type: "http", config: { method: "GET", url: "http://x.test/" } },
        ],
        input: {},
        prior: [],
      },
      deps,
      async () => true,
      new AbortController().signal,
    );
    expect(out.status).toBe("failed");
    const spans = exporter.getFinishedSpans();
    expect(
      spans.map((s) => [
        s.name,
        s.attributes["workflow.step.type"],
        s.attributes["workflow.step.attempts"],
        s.attributes["workflow.step.status"],
      ]),
    ).toEqual([
      ["step fetch", "http", 2, "completed"],
      ["step shape", "transform", 1, "completed"],
      ["step boom", "http", 1, "failed"],
    ]);
    expect(spans.every((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId)).toBe(true);
    expect(spans[2]!.status).toEqual({ code: 2, message: "gone" });
  });
});
