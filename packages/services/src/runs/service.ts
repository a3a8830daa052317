import { conflict, invalid, notFound } from "@wf/core/errors";
import { isUuid, newId } from "@wf/core/ids";
import type { CursorCodec } from "@wf/core/pagination";
import { PAGE_LIMIT, type Page, type PageRequest, SingleFlight, startAfter, toPage } from "@wf/core/pagination";
import {
  parseRfc3339,
  type Run,
  type RunRow,
  type RunStatus,
  TERMINAL,
  type TriggerLimits,
  toRun,
  validateSignal,
  validateTrigger,
} from "@wf/core/runs";
import type { OutboxAcks, Publisher } from "@wf/platform/bus";
import { type Cache, cacheKeys } from "@wf/platform/cache";
import type { RunChanges } from "@wf/platform/changes";
import { StatementBatcher } from "@wf/platform/sql";
import type { InsertedRun, NewRun, RunStore } from "./store.ts";
import { cacheRun } from "./stored.ts";

export interface TriggerRequest {
  workflow_id: string;
  input?: unknown;
  idempotency_key?: string;
  /** RFC 3339: the run starts then (now if already past). */
  run_at?: string;
  /** The run starts this many milliseconds from now. */
  delay_ms?: number;
}

export interface Triggered {
  run: Run;
  /** false when an idempotency key matched an earlier trigger and that run is returned. */
  created: boolean;
}

/** What `POST /runs/{id}/signals/{name}` answers: the signal as stored. */
export interface SignalAccepted {
  run_id: string;
  signal: string;
  /** The signal's id (a 64-bit integer as text): signals of a run are taken in this order. */
  id: string;
}

export interface RunListRequest extends PageRequest {
  status?: RunStatus;
  workflow_id?: string;
}

interface Deps {
  store: RunStore;
  cache: Cache;
  /** Told of the runs a cancel changed (event streams). */
  changes?: RunChanges;
  cursors: CursorCodec;
  publisher: Publisher;
  acks: OutboxAcks;
  topic: string;
  ttlS: number;
  limits: TriggerLimits;
}

/** Runs as the API sees them: trigger (store + publish), read, list, cancel. */
export class RunService {
  /** Identical list requests in flight at once share one query (see SingleFlight). */
  private readonly pages = new SingleFlight<Page<Run>>();
  /** Triggers of one event-loop turn share one insert (see StatementBatcher). */
  private readonly inserts: StatementBatcher<NewRun, InsertedRun | undefined>;
  constructor(private readonly d: Deps) {
    this.inserts = new StatementBatcher(async (runs) => {
      const stored = await d.store.insertPending(runs, d.topic);
      return runs.map((r) => stored.get(r.id));
    });
  }

  private async remember(run: Run): Promise<Run> {
    await cacheRun(this.d.cache, run, this.d.ttlS);
    return run;
  }

  /**
   * Answers once the run and its outbox message are durable: Kafka's ack is not awaited (under
   * load it took hundreds of milliseconds and was most of a trigger's latency), the publish goes
   * on behind the answer, and one that fails or times out is delivered by the outbox relay
   * later. `headers` go with the message (the request's trace context), from the outbox too.
   */
  async trigger(req: TriggerRequest, headers?: Record<string, string>): Promise<Triggered> {
    const errors = validateTrigger(req, this.d.limits);
    if (errors.length > 0) throw invalid(errors);
    if (!isUuid(req.workflow_id)) throw notFound("workflow", req.workflow_id);
    const key = req.idempotency_key ?? null;
    const inserted = await this.inserts.submit({
      id: newId(),
      workflowId: req.workflow_id,
      input: req.input ?? {},
      idempotencyKey: key,
      now: new Date(),
      headers,
      ...(req.run_at !== undefined ? { runAt: parseRfc3339(req.run_at) } : {}),
      ...(req.delay_ms !== undefined ? { delayMs: req.delay_ms } : {}),
    });
    if (!inserted) return { run: await this.replay(req, key), created: false };

    // Cached before the message leaves: the worker drops the cached copy when it claims the run,
    // and a pending copy written after that would be served stale until it expires.
    const run = await this.remember(toRun(inserted.row));
    // A run that starts later has no message yet: the timer publishes it when it is due.
    const outbox = inserted.outbox;
    // publish() never rejects: its outcome only decides whether the outbox row can go.
    if (outbox)
      void this.d.publisher.publish({ topic: this.d.topic, key: run.id, value: outbox.message, headers }).then((outcome) => {
        if (outcome === "published") this.d.acks.ack(outbox.id);
      });
    return { run, created: true };
  }

  /** Nothing was inserted: either the key was used before, or the workflow is gone. */
  private async replay(req: TriggerRequest, key: string | null): Promise<Run> {
    const earlier = key === null ? undefined : await this.d.store.getByIdempotencyKey(key);
    if (!earlier) throw notFound("workflow", req.workflow_id);
    if (earlier.workflow_id !== req.workflow_id)
      throw conflict(`idempotency_key ${JSON.stringify(key)} was already used to trigger workflow ${earlier.workflow_id}`);
    return toRun(earlier);
  }

  async get(id: string): Promise<Run> {
    if (!isUuid(id)) throw notFound("run", id);
    const run = await this.d.cache.readThrough(cacheKeys.run(id), this.d.ttlS, async () => {
      const row = await this.d.store.get(id);
      return row && toRun(row);
    });
    if (!run) throw notFound("run", id);
    return run;
  }

  async list(req: RunListRequest): Promise<Page<Run>> {
    const limit = req.limit ?? PAGE_LIMIT.default;
    // The filters are part of the cursor's scope: a cursor cannot be replayed against other filters.
    const scope = `runs:${req.status ?? ""}:${req.workflow_id ?? ""}`;
    if (req.workflow_id !== undefined && !isUuid(req.workflow_id)) return { items: [], next_cursor: null };
    const after = startAfter(this.d.cursors, req, scope);
    return this.pages.run(`${scope}:${limit}:${req.cursor ?? ""}`, async () => {
      const rows: RunRow[] = await this.d.store.list({ status: req.status, workflowId: req.workflow_id }, limit, after);
      return toPage(rows, limit, this.d.cursors, scope, toRun);
    });
  }

  /** Cancels the run and its unfinished descendants; their cached copies are dropped, the run's replaced. */
  async cancel(id: string): Promise<Run> {
    if (!isUuid(id)) throw notFound("run", id);
    const cancelled = await this.d.store.cancel(id, new Date());
    if (cancelled) {
      this.d.changes?.changed(cancelled.run.id, ...cancelled.descendants);
      if (cancelled.descendants.length > 0) await this.d.cache.del(...cancelled.descendants.map((d) => cacheKeys.run(d)));
      return this.remember(toRun(cancelled.run));
    }
    const current = await this.d.store.get(id);
    if (!current) throw notFound("run", id);
    throw conflict(`run ${id} is already ${current.status}`);
  }

  /** Stores a signal for a run that is not finished (and wakes it if it waits); see RunStore.signal. */
  async signal(runId: string, name: string, payload: unknown): Promise<SignalAccepted> {
    const errors = validateSignal(name, payload, this.d.limits);
    if (errors.length > 0) throw invalid(errors);
    if (!isUuid(runId)) throw notFound("run", runId);
    const stored = await this.d.store.signal(runId, name, payload);
    if (!stored) throw notFound("run", runId);
    if (stored.id === null || TERMINAL.has(stored.status)) throw conflict(`run ${runId} is already ${stored.status}`);
    return { run_id: runId.toLowerCase(), signal: name, id: stored.id };
  }
}
