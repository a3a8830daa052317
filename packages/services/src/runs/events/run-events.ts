import { isUuid } from "@wf/core/ids";
import { ChannelSubscriber, runChannel, runOfChannel } from "@wf/platform/changes";
import { errorFields, type Logger } from "@wf/platform/observability";
import type { RunEventRow } from "../store.ts";
import { type RunSnapshot, snapshotOf } from "./snapshot.ts";
import { EventStream } from "./stream.ts";

export interface RunEventsOptions {
  redisUrl: string;
  /** How often every open stream gets a `: ping` comment line. */
  heartbeatMs: number;
  /** How often the runs being streamed are compared with PostgreSQL, for a change whose message was lost. */
  pollMs: number;
}

export interface RunEventsStore {
  eventState(id: string): Promise<RunEventRow | undefined>;
  revisions(ids: string[]): Promise<{ id: string; revision: string }[]>;
}

/** What opening a stream gives: the stream, nothing (the run does not exist), or `over` (finished, and the client has all of it). */
export type Opened = { stream: EventStream } | "missing" | "over";

type Delivery = RunSnapshot | undefined | Error;

/** The streams of one run in this process, and the reads of it they share. */
class Watched {
  readonly listeners = new Set<(d: Delivery) => void>();
  revision: string | undefined;
  reading = false;
  again = false;
}

/**
 * The events streams of an API process. Every stream of a run shares one read of it per change:
 * a change is told over Redis pub/sub (one subscriber connection for the process, a channel per
 * run that has streams, see ChannelSubscriber), the run is read from PostgreSQL, and each stream
 * sends what its client lacks. PostgreSQL, not the message, is the truth: a message only says
 * "read again", so messages that are lost (pub/sub is at most once, Redis may be down) cost
 * latency, never correctness: every `pollMs` the revisions of the streamed runs are compared with
 * what was last read, and after a reconnect to Redis every streamed run is read again.
 *
 * Reads of one run never overlap (a change during a read asks for one more after it), so every
 * stream gets the run's states in the order they were stored.
 */
export class RunEvents {
  private readonly runs = new Map<string, Watched>();
  private readonly streams = new Set<EventStream>();
  private readonly subscriber: ChannelSubscriber;
  private poller: ReturnType<typeof setInterval> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly store: RunEventsStore,
    private readonly log: Logger,
    private readonly options: RunEventsOptions,
  ) {
    this.subscriber = new ChannelSubscriber(options.redisUrl, {
      message: (channel) => {
        const id = runOfChannel(channel);
        if (id !== undefined) this.refresh(id);
      },
      ready: () => {
        for (const id of this.runs.keys()) this.refresh(id);
      },
    });
  }

  get open(): number {
    return this.streams.size;
  }

  /**
   * A stream of the run from the client's `view` on (see parseEventId), once the run's current
   * state was read; rejects when it cannot be read (PostgreSQL down).
   */
  async stream(runId: string, view: string[]): Promise<Opened> {
    if (!isUuid(runId)) return "missing";
    const id = runId.toLowerCase();
    let first!: (d: Delivery) => void;
    const firstDelivery = new Promise<Delivery>((resolve) => {
      first = resolve;
    });
    let started = false;
    const stream = new EventStream(view, () => {
      this.streams.delete(stream);
      this.leave(id, listener);
    });
    const listener = (d: Delivery) => {
      if (!started) {
        started = true;
        return first(d);
      }
      if (d !== undefined && !(d instanceof Error)) stream.deliver(d);
    };
    this.join(id, listener);
    const d = await firstDelivery;
    if (d === undefined || d instanceof Error) {
      this.leave(id, listener);
      if (d instanceof Error) throw d;
      return "missing";
    }
    this.streams.add(stream);
    this.startTimers();
    if (stream.deliver(d) && stream.sent === 0) return "over";
    return { stream };
  }

  private join(id: string, listener: (d: Delivery) => void): void {
    let w = this.runs.get(id);
    if (!w) {
      w = new Watched();
      this.runs.set(id, w);
      this.subscriber.add(runChannel(id));
    }
    w.listeners.add(listener);
    this.refresh(id);
  }

  private leave(id: string, listener: (d: Delivery) => void): void {
    const w = this.runs.get(id);
    if (!w?.listeners.delete(listener) || w.listeners.size > 0) return;
    this.runs.delete(id);
    this.subscriber.remove(runChannel(id));
    if (this.runs.size === 0) this.stopTimers();
  }

  /** Reads the run and gives its state to its streams; a read asked for during one follows it. */
  private refresh(id: string): void {
    const w = this.runs.get(id);
    if (!w) return;
    if (w.reading) {
      w.again = true;
      return;
    }
    w.reading = true;
    void (async () => {
      do {
        w.again = false;
        let d: Delivery;
        try {
          const row = await this.store.eventState(id);
          d = row && snapshotOf(row);
          if (d) w.revision = d.revision;
        } catch (err) {
          this.log.warn("run events: reading the run failed", { run_id: id, ...errorFields(err) });
          d = err instanceof Error ? err : new Error(String(err));
        }
        for (const l of [...w.listeners]) l(d);
      } while (w.again && this.runs.get(id) === w);
      w.reading = false;
    })();
  }

  /** The slow poll: streamed runs whose revision moved without a message (lost, or Redis down) are read again. */
  private async poll(): Promise<void> {
    if (this.runs.size === 0) return;
    try {
      for (const { id, revision } of await this.store.revisions([...this.runs.keys()]))
        if (this.runs.get(id)?.revision !== revision) this.refresh(id);
    } catch (err) {
      this.log.warn("run events: polling the streamed runs failed", errorFields(err));
    }
  }

  private startTimers(): void {
    this.poller ??= setInterval(() => void this.poll(), this.options.pollMs);
    this.heartbeat ??= setInterval(() => {
      for (const s of this.streams) s.ping();
    }, this.options.heartbeatMs);
  }

  private stopTimers(): void {
    clearInterval(this.poller);
    clearInterval(this.heartbeat);
    this.poller = this.heartbeat = undefined;
  }

  /** Ends every stream (its clients reconnect, with their Last-Event-ID, to another replica) and the subscriber connection. */
  close(): void {
    for (const s of [...this.streams]) s.end();
    this.stopTimers();
    this.subscriber.close();
  }
}
