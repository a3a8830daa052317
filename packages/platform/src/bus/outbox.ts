import type { Logger } from "../observability/logger.ts";
import { errorFields } from "../observability/logger.ts";
import { pgArray, type Sql } from "../sql/client.ts";
import type { Publisher } from "./publisher.ts";

/**
 * Deletes outbox rows whose message Kafka has acknowledged. Deletes are collected and sent as one
 * statement `intervalMs` after the first of them: at thousands of triggers per second one
 * `DELETE ... = ANY(...)` is far cheaper than one per request, and a row deleted a moment late is
 * only published twice if the relay's grace period is shorter than this interval (it is not; see
 * config).
 */
export class OutboxAcks {
  private ids: string[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly sql: Sql,
    private readonly log: Logger,
    private readonly intervalMs = 50,
  ) {}

  ack(outboxId: string): void {
    this.ids.push(outboxId);
    // Armed by the first ack after a flush rather than ticking forever: an idle replica would
    // otherwise wake 20 times a second for nothing. After close the rows stay for the relay.
    if (this.timer === undefined && !this.closed)
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.intervalMs);
  }

  flush(): Promise<void> {
    if (this.ids.length === 0) return this.flushing;
    const ids = this.ids;
    this.ids = [];
    this.flushing = this.flushing.then(async () => {
      try {
        await this.sql`DELETE FROM outbox WHERE id = ANY(${pgArray(ids)}::bigint[])`;
      } catch (err) {
        // Left in place, the rows are republished by the relay: a duplicate message, never a loss.
        this.log.warn("could not delete acknowledged outbox rows", { ...errorFields(err), rows: ids.length });
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}

interface OutboxRow {
  id: string;
  topic: string;
  key: string;
  payload: unknown;
  headers: Record<string, string> | null;
}

/**
 * Publishes outbox rows older than the grace period: those whose request-time publish failed or
 * timed out, or whose process died before the ack was recorded. Every API replica runs one;
 * `FOR UPDATE SKIP LOCKED` lets them share the work without publishing a row twice at once.
 * A relay serves only its own topic, the one its publisher makes sure exists.
 */
export class OutboxRelay {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;
  readonly stats = { relayed: 0, failures: 0 };

  constructor(
    private readonly sql: Sql,
    private readonly publisher: Publisher,
    private readonly log: Logger,
    private readonly opts: { topic: string; intervalMs: number; graceMs: number; batchSize: number },
  ) {}

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      let moved = 0;
      try {
        moved = await this.runOnce();
      } catch (err) {
        this.stats.failures++;
        this.log.warn("outbox relay pass failed", errorFields(err));
      }
      // A full batch means more is waiting: go again at once.
      if (!this.stopped) this.timer = setTimeout(loop, moved >= this.opts.batchSize ? 0 : this.opts.intervalMs);
    };
    this.timer = setTimeout(loop, this.opts.intervalMs);
  }

  /** One pass; returns how many messages were published. */
  runOnce(graceMs = this.opts.graceMs): Promise<number> {
    if (this.running) return this.running;
    this.running = this.pass(graceMs).finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(graceMs: number): Promise<number> {
    if (!this.publisher.isConnected) return 0;
    const n = await this.sql.begin(async (tx) => {
      const rows = await tx<OutboxRow[]>`
        SELECT id::text AS id, topic, key, payload, headers FROM outbox
        WHERE topic = ${this.opts.topic} AND created_at < now() - make_interval(secs => ${graceMs / 1000})
        ORDER BY id LIMIT ${this.opts.batchSize}
        FOR UPDATE SKIP LOCKED`;
      if (rows.length === 0) return 0;
      await this.publisher.sendBatch(
        rows.map((r) => ({ topic: r.topic, key: r.key, value: JSON.stringify(r.payload), headers: r.headers ?? undefined })),
      );
      await tx`DELETE FROM outbox WHERE id = ANY(${pgArray(rows.map((r) => r.id))}::bigint[])`;
      return rows.length;
    });
    if (n > 0) {
      this.stats.relayed += n;
      this.log.info("outbox relay published pending messages", { messages: n });
    }
    return n;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => 0);
  }
}
