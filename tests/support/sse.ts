/** One Server-Sent Events frame as a client sees it: an event (id, name, parsed data) or a comment line. */
export type SseFrame = { id: string; event: string; data: unknown } | { comment: string };

export interface SseStream {
  status: number;
  headers: Headers;
  frames: SseFrame[];
  /** Resolves once the server ended the stream (or the client aborted it). */
  ended: Promise<void>;
  /** True once the server closed the stream by itself. */
  readonly closedByServer: boolean;
  /** Resolves with the frames so far once `until` holds for them; rejects after `timeoutMs`. */
  waitFor(until: (frames: SseFrame[]) => boolean, timeoutMs?: number): Promise<SseFrame[]>;
  close(): void;
}

export const isEvent = (f: SseFrame): f is { id: string; event: string; data: unknown } => "event" in f;

/** Opens an events stream and parses its frames as they come (a minimal EventSource, with headers). */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const ac = new AbortController();
  const res = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: ac.signal });
  const frames: SseFrame[] = [];
  const waiters = new Set<() => void>();
  let closedByServer = false;
  const ended = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk, { stream: true });
        for (let end = buf.indexOf("\n\n"); end >= 0; end = buf.indexOf("\n\n")) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) frames.push({ comment: line.slice(1).trim() });
            else {
              const i = line.indexOf(":");
              fields[line.slice(0, i)] = line.slice(i + 1).replace(/^ /, "");
            }
          }
          if (fields.event !== undefined)
            frames.push({ id: fields.id ?? "", event: fields.event, data: JSON.parse(fields.data ?? "null") });
        }
        for (const w of waiters) w();
      }
      closedByServer = true;
    } catch {
      // aborted by the client
    }
    for (const w of waiters) w();
  })();
  return {
    status: res.status,
    headers: res.headers,
    frames,
    ended,
    get closedByServer() {
      return closedByServer;
    },
    waitFor(until, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (until(frames)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(frames);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms; frames so far: ${JSON.stringify(frames)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => ac.abort(),
  };
}
