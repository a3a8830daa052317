import { newId } from "@wf/core/ids";
import type { RunStatus } from "@wf/core/runs";
import { CronSchedule, dueTicks, type OverlapPolicy, scheduleRunKey } from "@wf/core/schedules";
import type { Publisher } from "@wf/platform/bus";
import type { Logger } from "@wf/platform/observability";
import { errorFields } from "@wf/platform/observability";
import { pgArray, type Sql } from "@wf/platform/sql";
import { type InsertedRun, insertPending, type NewRun } from "../runs/pending.ts";

export interface TickerOptions {
  /** The runs topic of this worker group: only its schedules are taken, and their runs go there. */
  topic: string;
  pollMs: number;
  /** SCHEDULE_MISFIRE_MS: see dueTicks. */
  misfireMs: number;
  batchSize: number;
}

/** What became of the ticks a pass handled; counted once its transaction commits. */
export interface TickStats {
  started: number;
  skippedOverlap: number;
  skippedNoWorkflow: number;
}

interface DueRow {
  id: string;
  workflow_id: string;
  cron: string;
  timezone: string;
  input: Record<string, unknown>;
  overlap: OverlapPolicy;
  next_run_at: Date;
  last_run_id: string | null;
  last_run_status: RunStatus | null;
  workflow_exists: boolean;
  now: Date;
}

interface Advance {
  id: string;
  next_run_at: string | null;
  last_tick_at: string | null;
  last_run_id: string | null;
  last_error: string | null;
}

interface Planned {
  run: NewRun;
  scheduleId: string;
  tick: Date;
}

const UNFINISHED: ReadonlySet<RunStatus | null> = new Set(["pending", "running"]);

/**
 * Starts the runs of schedules' ticks; every worker runs one. One pass is one transaction: take
 * the due schedules of this topic (FOR UPDATE SKIP LOCKED, so two tickers never hold the same
 * schedule), insert each due tick's run with its outbox message (the trigger's own statement,
 * insertPending) under the idempotency key `schedule:<id>:<tick>`, and move each schedule's next
 * tick past now. A ticker killed mid-pass leaves nothing: the transaction rolls back, the row lock
 * goes, and the next pass of any ticker takes the same ticks. A tick is therefore started exactly
 * once: the lock keeps tickers apart, the next tick moves in the same commit as the runs, and the
 * key would refuse a second run of a tick anyway (a replace that brings a tick back, a clock step).
 *
 * The runs are published after the commit; one that is lost (Kafka down, the process killed in
 * between) stays in the outbox, which the API replicas' relay delivers (OUTBOX_GRACE_MS).
 */
export class ScheduleTicker {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private running: Promise<number> | undefined;
  readonly stats: TickStats = { started: 0, skippedOverlap: 0, skippedNoWorkflow: 0 };

  constructor(
    private readonly sql: Sql,
    private readonly publisher: Publisher,
    private readonly log: Logger,
    private readonly opts: TickerOptions,
    /** Told, for each run started, how late it was: its creation minus its tick, in seconds. */
    private readonly observeLag: (seconds: number) => void = () => {},
  ) {}

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      let full = false;
      try {
        full = (await this.runOnce()) === this.opts.batchSize;
      } catch (err) {
        this.log.warn("schedule ticker pass failed", errorFields(err));
      }
      // A full batch: more may be due now.
      if (!this.stopped) this.timer = setTimeout(loop, full ? 0 : this.opts.pollMs);
    };
    this.timer = setTimeout(loop, 0);
  }

  /** One pass; returns how many schedules it handled. */
  runOnce(): Promise<number> {
    if (this.running) return this.running;
    this.running = this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<number> {
    const o = this.opts;
    const tally: TickStats = { started: 0, skippedOverlap: 0, skippedNoWorkflow: 0 };
    const { handled, started } = await this.sql.begin(async (transaction) => {
      // The transaction's queries take the pool's type: insertPending is written for either.
      const tx = transaction as unknown as Sql;
      // now() is the transaction's start on the database's clock: the one clock every ticker shares.
      const due = await tx<DueRow[]>`
        SELECT s.id, s.workflow_id, s.cron, s.timezone, s.input, s.overlap, s.next_run_at, s.last_run_id,
               r.status AS last_run_status, (w.id IS NOT NULL) AS workflow_exists, now() AS now
        FROM schedules s
        LEFT JOIN runs r ON r.id = s.last_run_id
        LEFT JOIN workflows w ON w.id = s.workflow_id
        WHERE s.topic = ${o.topic} AND s.next_run_at <= now() AND s.enabled
        ORDER BY s.next_run_at LIMIT ${o.batchSize}
        FOR UPDATE OF s SKIP LOCKED`;
      if (due.length === 0) return { handled: 0, started: [] as (Planned & InsertedRun)[] };

      const planned: Planned[] = [];
      const advances = new Map<string, Advance>();
      for (const row of due) advances.set(row.id, this.plan(row, planned, tally));

      const inserted =
        planned.length > 0
          ? await insertPending(
              tx,
              planned.map((p) => p.run),
              o.topic,
            )
          : new Map();
      const started: (Planned & InsertedRun)[] = [];
      const notInserted: Planned[] = [];
      for (const p of planned) {
        const ins = inserted.get(p.run.id);
        if (ins) started.push({ ...p, ...ins });
        else notInserted.push(p);
      }
      if (notInserted.length > 0) await this.explain(tx, notInserted, advances, tally);
      tally.started = started.length;

      await tx`
        UPDATE schedules s
        SET next_run_at = u.next_run_at, last_tick_at = COALESCE(u.last_tick_at, s.last_tick_at),
            last_run_id = COALESCE(u.last_run_id, s.last_run_id), last_error = u.last_error
        FROM jsonb_to_recordset(${tx.json([...advances.values()] as never)}::jsonb)
          AS u(id uuid, next_run_at timestamptz, last_tick_at timestamptz, last_run_id uuid, last_error text)
        WHERE s.id = u.id`;
      return { handled: due.length, started };
    });

    this.stats.started += tally.started;
    this.stats.skippedOverlap += tally.skippedOverlap;
    this.stats.skippedNoWorkflow += tally.skippedNoWorkflow;
    for (const s of started) this.observeLag((s.run.now.getTime() - s.tick.getTime()) / 1000);
    if (started.length > 0) await this.publish(started);
    return handled;
  }

  /** The ticks of one due schedule: the runs to start (into `planned`) and how the schedule moves on. */
  private plan(row: DueRow, planned: Planned[], tally: TickStats): Advance {
    const cron = CronSchedule.parse(row.cron, row.timezone);
    if (Array.isArray(cron)) {
      // Stored valid; only a change of the cron library or of the time-zone database can get here.
      const why = cron.map((e) => e.message).join("; ");
      this.log.error("schedule no longer parses; it stops", { schedule_id: row.id, error: why });
      return { id: row.id, next_run_at: null, last_tick_at: null, last_run_id: null, last_error: `the schedule no longer parses: ${why}` };
    }
    const { ticks, next } = dueTicks(cron, row.next_run_at, row.now, this.opts.misfireMs);
    let lastRun = row.last_run_id;
    let busy = row.overlap === "skip" && UNFINISHED.has(row.last_run_status);
    let lastRunId: string | null = null;
    let lastError: string | null = null;
    for (const tick of ticks) {
      const at = tick.toISOString();
      if (!row.workflow_exists) {
        tally.skippedNoWorkflow++;
        lastError = `the tick of ${at} started no run: workflow ${row.workflow_id} does not exist`;
      } else if (busy) {
        tally.skippedOverlap++;
        lastError = `the tick of ${at} started no run: run ${lastRun} is not finished (overlap: skip)`;
      } else {
        const id = newId();
        planned.push({
          scheduleId: row.id,
          tick,
          run: {
            id,
            workflowId: row.workflow_id,
            input: row.input,
            idempotencyKey: scheduleRunKey(row.id, tick),
            now: row.now,
            scheduleId: row.id,
          },
        });
        lastRun = lastRunId = id;
        lastError = null;
        busy = row.overlap === "skip";
      }
    }
    return {
      id: row.id,
      next_run_at: next?.toISOString() ?? null,
      last_tick_at: ticks.at(-1)?.toISOString() ?? null,
      last_run_id: lastRunId,
      last_error: lastError,
    };
  }

  /**
   * Planned runs the insert did not write: a run of that tick exists already (its key is taken),
   * which then is the tick's run; or the workflow was deleted since the schedules were read.
   */
  private async explain(tx: Sql, missing: Planned[], advances: Map<string, Advance>, tally: TickStats): Promise<void> {
    const keys = missing.map((p) => p.run.idempotencyKey);
    const existing = await tx<{ id: string; idempotency_key: string }[]>`
      SELECT id, idempotency_key FROM runs WHERE idempotency_key IN (SELECT jsonb_array_elements_text(${tx.json(keys as never)}::jsonb))`;
    const byKey = new Map(existing.map((r) => [r.idempotency_key, r.id]));
    for (const p of missing) {
      const advance = advances.get(p.scheduleId)!;
      const earlier = byKey.get(p.run.idempotencyKey!);
      if (earlier === undefined) tally.skippedNoWorkflow++;
      // Only the schedule's last planned run decides what it shows.
      if (advance.last_run_id !== p.run.id) continue;
      advance.last_run_id = earlier ?? null;
      if (earlier === undefined)
        advance.last_error = `the tick of ${p.tick.toISOString()} started no run: workflow ${p.run.workflowId} does not exist`;
    }
  }

  /** After the commit, as a worker publishes a child run: a message Kafka acknowledged needs no outbox row any more. */
  private async publish(started: (Planned & InsertedRun)[]): Promise<void> {
    if (!this.publisher.isConnected) return;
    const topic = this.opts.topic;
    // A tick's run starts now, so it has its outbox row.
    const now = started.flatMap((s) => (s.outbox ? [{ id: s.row.id, outbox: s.outbox }] : []));
    const outcomes = await Promise.all(now.map((s) => this.publisher.publish({ topic, key: s.id, value: s.outbox.message })));
    const acked = now.filter((_, i) => outcomes[i] === "published").map((s) => s.outbox.id);
    // A failed delete leaves the rows to the relay: those runs are published twice, which is harmless.
    if (acked.length > 0) await this.sql`DELETE FROM outbox WHERE id = ANY(${pgArray(acked)}::bigint[])`.catch(() => {});
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => 0);
  }
}
