import { notFound } from "@wf/core/errors";
import { BadQuery } from "@wf/http";
import { parseEventId, type RunEvents } from "@wf/services/runs";

/**
 * The answer of GET /runs/{id}/events: a Server-Sent Events stream, a 204 when a resuming client
 * already has the finished run, a 404 (before any stream) for an unknown run. `set`: what the
 * request hooks set (x-request-id), carried over to the streamed Response.
 */
export async function runEventsResponse(
  events: RunEvents,
  runId: string,
  lastEventId: string | undefined,
  set: { headers: Record<string, string | number>; status?: number | string },
): Promise<Response> {
  const view = lastEventId === undefined ? [] : parseEventId(lastEventId);
  if (view === undefined) throw new BadQuery([{ path: "/last_event_id", message: "is not an event id of this stream" }]);
  const opened = await events.stream(runId, view);
  if (opened === "missing") throw notFound("run", runId);
  const common: Record<string, string> = {};
  for (const [k, v] of Object.entries(set.headers)) common[k] = String(v);
  if (opened === "over") {
    set.status = 204; // for the access log and the request metric
    return new Response(null, { status: 204, headers: common });
  }
  return new Response(opened.stream.body, {
    headers: {
      ...common,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      // nginx (and proxies that follow it) pass the stream on as it comes instead of buffering it.
      "x-accel-buffering": "no",
    },
  });
}
