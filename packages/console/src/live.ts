import { apiKey, client, must, type Run } from "./api.ts";

const FINISHED = new Set(["completed", "failed", "cancelled"]);
export const isFinished = (run: Run) => FINISHED.has(run.status);

/**
 * Follows a run until it finishes: the events stream (GET /api/v1/runs/{id}/events, SSE events
 * `run` and `step`) read with fetch, since EventSource cannot send the API key; each event
 * re-reads the run. Where the stream is not served (404) or breaks, it polls every second.
 * Returns a function that stops following.
 */
export function followRun(id: string, onRun: (run: Run) => void, onError: (e: Error) => void): () => void {
  const abort = new AbortController();
  let stopped = false;
  const refresh = async () => {
    const run = await must(client.api.v1.runs({ id }).get());
    if (!stopped) onRun(run);
    return run;
  };
  const poll = async () => {
    while (!stopped) {
      try {
        if (isFinished(await refresh())) return;
      } catch (e) {
        onError(e as Error);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  const stream = async () => {
    const key = apiKey.get();
    const res = await fetch(`/api/v1/runs/${id}/events`, {
      headers: { accept: "text/event-stream", ...(key ? { authorization: `Bearer ${key}` } : {}) },
      signal: abort.signal,
    });
    if (!res.ok || !res.body || !res.headers.get("content-type")?.startsWith("text/event-stream")) return false;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let pending: Promise<Run> | undefined;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return true;
      buffer += value;
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
        // Comments (": keep-alive") carry nothing; a `run` or `step` event re-reads the run once.
        if (/^(event|data):/m.test(event)) pending ??= refresh().finally(() => (pending = undefined));
      }
      const run = await pending;
      if (run && isFinished(run)) return true;
    }
  };
  (async () => {
    if (isFinished(await refresh())) return;
    await stream().catch(() => false);
    // Not served, broken or closed early: polling takes over (its first read ends it if finished).
    if (!stopped) await poll();
  })().catch((e: Error) => {
    if (!stopped) onError(e);
  });
  return () => {
    stopped = true;
    abort.abort();
  };
}
