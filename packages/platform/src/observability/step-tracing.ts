import { SpanStatusCode } from "@opentelemetry/api";
import type { EngineDeps } from "@wf/core/engine";
import type { Span, Tracing } from "./tracing.ts";

/** One span per executed step, children of `parent` (the span of the message that asked for the run). */
export function traceSteps(tracing: Tracing, parent: Span, runId: string): NonNullable<EngineDeps["stepStarted"]> {
  return (step, record) => {
    const span = tracing.startChildSpan(`step ${step.name}`, parent, {
      "workflow.run.id": runId,
      "workflow.step.name": step.name,
      "workflow.step.type": step.type,
    });
    return () => {
      span.setAttributes({ "workflow.step.status": record.status, "workflow.step.attempts": record.attempts });
      if (record.status === "failed") span.setStatus({ code: SpanStatusCode.ERROR, message: record.error });
      span.end();
    };
  };
}
