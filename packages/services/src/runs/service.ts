import { badRequest, conflict, invalid, notFound } from "@wf/core/errors";
import { isUuid, newId } from "@wf/core/ids";
import type { CursorCodec } from "@wf/core/pagination";
import { PAGE_LIMIT, type Page, type PageRequest, SingleFlight, startAfter, toPage } from "@wf/core/pagination";
import {
  CANCELLABLE_STATUSES,
  FINISHED_STATUSES,
  isEmptyFilter,
  parseRfc3339,
  parseRunFilter,
  type Run,
  type RunFilterFields,
  type RunRow,
  runFilterScope,
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
import { type ReplayOptions, replayFor } from "./replays.ts";
import type { InsertedRun, NewReplay, NewRun, RunStore } from "./store.ts";
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

export type { ReplayOptions } from "./replays.ts";

/** How many runs `replayMany` reads and inserts with one statement each. */
export const REPLAY_BATCH = 1000;

export interface RunListRequest extends PageRequest, RunFilterFields {}

/** What a bulk action answers (replayMany too: the runs of the ids that exist, and the replays it started). */
export interface BulkResult {
  /** Runs the filters matched that the action applies to, up to the per-call limit. */
  matched: number;
  /** Runs the action changed. */
  affected: number;
}

/** Runs a bulk cancel's statement cancels at once: short statements, a few hundred KB each. */
const BULK_BATCH = 1_000;
/** Tries of a batch's runs that were locked (being claimed, finished...) when it ran. */
const BUSY_TRIES = 5;

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
  /** Most runs one bulk action takes (BULK_MAX_RUNS). */
  bulkMaxRuns: number;
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
    if (!inserted) return { run: await this.earlierTrigger(req, key), created: false };

    // Cached before the message leaves: the worker drops the cached copy when it claims the run,
    // and a pending copy written after that would be served stale until it expires.
    const run = await this.remember(toRun(inserted.row));
    void this.publish(inserted, headers);
    return { run, created: true };
  }

  /**
   * Publishes a stored run's outbox message; on Kafka's ack its outbox row goes. Never rejects: a
   * publish that fails leaves the row to the outbox relay. A run that starts later has no message
   * yet: the timer publishes it when it is due.
   */
  private async publish({ row, outbox }: InsertedRun, headers?: Record<string, string>): Promise<void> {
    if (!outbox) return;
    const outcome = await this.d.publisher.publish({ topic: this.d.topic, key: row.id, value: outbox.message, headers });
    if (outcome === "published") this.d.acks.ack(outbox.id);
  }

  /** Nothing was inserted: either the key was used before, or the workflow is gone. */
  private async earlierTrigger(req: TriggerRequest, key: string | null): Promise<Run> {
    const earlier = key === null ? undefined : await this.d.store.getByIdempotencyKey(key);
    if (!earlier) throw notFound("workflow", req.workflow_id);
    if (earlier.workflow_id !== req.workflow_id)
      throw conflict(`idempotency_key ${JSON.stringify(key)} was already used to trigger workflow ${earlier.workflow_id}`);
    return toRun(earlier);
  }

  /**
   * A new pending run of a finished run's pinned definition (`replay_of` the original), stored and
   * published as a trigger's: the original's steps that the start does not lead to keep their
   * results (`reused: true`) and do not execute (see planReplay). 404 unknown run, 409 a run not
   * finished or of a deleted workflow, 422 a from_step the definition does not have or an input a trigger would refuse.
   */
  async replay(id: string, opts: ReplayOptions, headers?: Record<string, string>): Promise<Run> {
    const errors = validateTrigger({ input: opts.input }, this.d.limits);
    if (errors.length > 0) throw invalid(errors);
    if (!isUuid(id)) throw notFound("run", id);
    const [original] = await this.d.store.replayOriginals([id.toLowerCase()]);
    if (!original) throw notFound("run", id);
    if (!TERMINAL.has(original.status)) throw conflict(`run ${id} is ${original.status}: only a finished run can be replayed`);
    if (!original.workflow_exists) throw conflict(`the workflow of run ${id} was deleted: it starts no run any more`);
    const replay = replayFor(original, opts, new Date(), headers);
    if (!("replayOf" in replay)) throw invalid([replay]);
    const inserted = (await this.d.store.insertReplays([replay], this.d.topic)).get(replay.id);
    // A finished run stays finished: only its workflow's deletion in between leaves nothing inserted.
    if (!inserted) throw conflict(`the workflow of run ${id} was deleted: it starts no run any more`);
    const run = await this.remember(toRun(inserted.row));
    void this.publish(inserted, headers);
    return run;
  }

  /**
   * Replays many runs, REPLAY_BATCH at a time (one read and one insert statement a batch, its
   * publishes awaited before the next: memory stays bounded whatever the number of ids). Runs that
   * are not finished, of a deleted workflow, or whose definition has no `from_step`, are matched but not replayed;
   * malformed and unknown ids are not matched.
   */
  async replayMany(
    ids: Iterable<string> | AsyncIterable<string>,
    opts: ReplayOptions = {},
    { headers, batchSize = REPLAY_BATCH }: { headers?: Record<string, string>; batchSize?: number } = {},
  ): Promise<BulkResult> {
    const errors = validateTrigger({ input: opts.input }, this.d.limits);
    if (errors.length > 0) throw invalid(errors);
    const outcome: BulkResult = { matched: 0, affected: 0 };
    let batch: string[] = [];
    const flush = async () => {
      const originals = await this.d.store.replayOriginals(batch);
      batch = [];
      outcome.matched += originals.length;
      const now = new Date();
      const replays = originals
        .filter((o) => TERMINAL.has(o.status) && o.workflow_exists)
        .map((o) => replayFor(o, opts, now, headers))
        .filter((r): r is NewReplay => "replayOf" in r);
      const inserted = await this.d.store.insertReplays(replays, this.d.topic);
      outcome.affected += inserted.size;
      await Promise.all([...inserted.values()].map((r) => this.publish(r, headers)));
    };
    for await (const id of ids) {
      if (!isUuid(id)) continue;
      batch.push(id.toLowerCase());
      if (batch.length >= batchSize) await flush();
    }
    if (batch.length > 0) await flush();
    return outcome;
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
    const parsed = parseRunFilter(req);
    if (!("filter" in parsed)) throw badRequest("the query string is not valid", parsed.errors);
    // The filters are part of the cursor's scope: a cursor cannot be replayed against other filters.
    const scope = runFilterScope(parsed.filter);
    const after = startAfter(this.d.cursors, req, scope);
    return this.pages.run(`${scope}:${limit}:${req.cursor ?? ""}`, async () => {
      const rows: RunRow[] = await this.d.store.list(parsed.filter, limit, after);
      return toPage(rows, limit, this.d.cursors, scope, toRun);
    });
  }

  /**
   * Cancels the pending and running runs the filters match (at least one filter), up to
   * `bulkMaxRuns` a call, newest first, as `cancel` cancels one (descendants included), in
   * statements of BULK_BATCH runs: no round trip per run, memory bounded by the limit's ids. A
   * run that finishes meanwhile is matched, not affected; calling again takes the next ones.
   */
  async bulkCancel(fields: RunFilterFields): Promise<BulkResult> {
    const parsed = parseRunFilter(fields, CANCELLABLE_STATUSES);
    if (!("filter" in parsed)) throw invalid(parsed.errors);
    if (isEmptyFilter(parsed.filter)) throw invalid([{ path: "", message: "at least one filter is required" }]);
    const filter = { ...parsed.filter, status: parsed.filter.status ?? CANCELLABLE_STATUSES };
    const ids = await this.d.store.matchingIds(filter, this.d.bulkMaxRuns);
    let affected = 0;
    for (let i = 0; i < ids.length; i += BULK_BATCH) {
      let batch = ids.slice(i, i + BULK_BATCH);
      for (let tries = 0; batch.length > 0 && tries < BUSY_TRIES; tries++) {
        if (tries > 0) await new Promise((r) => setTimeout(r, 20 * tries));
        const done = await this.d.store.cancelBatch(batch, new Date());
        affected += done.cancelled.length;
        const ended = [...done.cancelled, ...done.descendants];
        if (ended.length > 0) {
          await this.d.cache.del(...ended.map((id) => cacheKeys.run(id)));
          this.d.changes?.changed(...ended);
        }
        batch = done.busy;
      }
    }
    return { matched: ids.length, affected };
  }

  /**
   * Replays the finished runs the filters match (at least one filter), up to `bulkMaxRuns` a call,
   * newest first, each as `replay` replays one (`from_step` for all of them; a run whose definition
   * lacks it is matched, not affected), REPLAY_BATCH runs a statement.
   */
  async bulkReplay(fields: RunFilterFields & { from_step?: string }, headers?: Record<string, string>): Promise<BulkResult> {
    const { from_step, ...filterFields } = fields;
    const parsed = parseRunFilter(filterFields, FINISHED_STATUSES);
    if (!("filter" in parsed)) throw invalid(parsed.errors);
    if (isEmptyFilter(parsed.filter)) throw invalid([{ path: "", message: "at least one filter is required" }]);
    const filter = { ...parsed.filter, status: parsed.filter.status ?? FINISHED_STATUSES };
    const ids = await this.d.store.matchingIds(filter, this.d.bulkMaxRuns);
    return this.replayMany(ids, from_step === undefined ? {} : { from_step }, { headers });
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
