import { changedSlots, eventIdOf, type RunSnapshot } from "./snapshot.ts";

const encoder = new TextEncoder();
/**
 * How long the terminal event of a cancelled run waits for its worker to record how its steps
 * ended (it notices within CANCEL_POLL_MS): a worker that died never will, and the client must
 * still learn the run is over.
 */
const SETTLE_MAX_MS = 5_000;
const PING = encoder.encode(": ping\n\n");

/**
 * One client's Server-Sent Events stream of a run: what it sends is the difference between the
 * client's view (from its Last-Event-ID, or nothing) and each state of the run it is given, so a
 * state the client has is never sent twice. Ends after the run's terminal event.
 */
export class EventStream {
  readonly body: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private closed = false;
  private latest: RunSnapshot | undefined;
  private settleTimer: ReturnType<typeof setTimeout> | undefined;
  private settleOver = false;
  /** Events sent so far (the first delivery decides between a stream and "nothing more to say"). */
  sent = 0;

  constructor(
    private readonly view: string[],
    private readonly onClose: () => void,
  ) {
    this.body = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.controller = c;
      },
      // The client went away.
      cancel: () => this.end(false),
    });
  }

  get over(): boolean {
    return this.closed;
  }

  /** Sends what the client lacks of `snap`; true when the run is over and the stream ended with it. */
  deliver(snap: RunSnapshot): boolean {
    if (this.closed) return true;
    this.latest = snap;
    // The run's terminal event is the stream's last: held back while the steps' ends are on their way.
    const hold = snap.terminal && snap.settling && !this.settleOver;
    let frames = "";
    for (const slot of changedSlots(this.view, snap)) {
      if (hold && slot === 0) continue;
      const item = snap.items[slot]!;
      this.view[slot] = item.hash;
      frames += `id: ${eventIdOf(this.view)}\nevent: ${item.event}\ndata: ${item.data}\n\n`;
      this.sent++;
    }
    if (frames) this.write(encoder.encode(frames));
    if (hold) {
      this.settleTimer ??= setTimeout(() => {
        this.settleOver = true;
        if (this.latest) this.deliver(this.latest);
      }, SETTLE_MAX_MS);
      return false;
    }
    const runSent = snap.items[0] !== undefined && this.view[0] === snap.items[0].hash;
    if (snap.terminal && runSent) this.end(true);
    return this.closed;
  }

  ping(): void {
    this.write(PING);
  }

  private write(chunk: Uint8Array): void {
    if (this.closed) return;
    try {
      this.controller.enqueue(chunk);
    } catch {
      this.end(false);
    }
  }

  /** `close`: the server ends the stream (the run is over, or the process drains). */
  end(close = true): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.settleTimer);
    if (close)
      try {
        this.controller.close();
      } catch {}
    this.onClose();
  }
}
