import type { Sql } from "./client.ts";
import { isDatabaseOutage } from "./outage.ts";

/** Where a routed read went, and why (counted as `db_reads_total{target}`). */
export type ReadTarget = "replica" | "primary_missing" | "primary_error" | "primary_recent_write" | "primary_replica_unavailable";

export interface ReplicaOptions {
  /** The replica is used only while its measured lag is at most this; also how long a by-id read of an entity this process wrote goes to the primary. */
  maxLagMs: number;
  /** A replica read slower than this is abandoned for the primary, and the replica set aside until a probe succeeds. */
  timeoutMs: number;
  /** How often the lag is measured (and a replica set aside is probed). */
  probeMs: number;
  onStateChange?: (up: boolean, reason: string) => void;
}

/**
 * A streaming replica and the state that decides whether reads may go to it: reachable (a probe
 * every `probeMs`, and any replica read that fails on an outage or times out sets it aside until
 * the next successful probe) and not further behind than `maxLagMs`. Lag = now() minus the commit
 * time of the last replayed transaction while WAL received is not yet replayed, 0 when all is
 * replayed (an idle primary sends nothing, which is not lag).
 */
export class ReadReplica {
  /** Seconds behind the primary as of the last probe; undefined before the first or while unreachable. */
  lagSeconds: number | undefined;
  reachable = false;
  readonly counts: Record<ReadTarget, number> = {
    replica: 0,
    primary_missing: 0,
    primary_error: 0,
    primary_recent_write: 0,
    primary_replica_unavailable: 0,
  };
  private timer: ReturnType<typeof setInterval> | undefined;
  private probing: Promise<void> | undefined;

  constructor(
    readonly sql: Sql,
    readonly options: ReplicaOptions,
  ) {}

  /** First probe awaited (reads go to the primary until the replica answers), then one every probeMs. */
  async start(): Promise<void> {
    await this.probe();
    this.timer = setInterval(() => void this.probe(), this.options.probeMs);
    this.timer.unref?.();
  }

  /** Whether a read may go to the replica now. */
  get usable(): boolean {
    return this.reachable && this.lagSeconds !== undefined && this.lagSeconds * 1000 <= this.options.maxLagMs;
  }

  probe(): Promise<void> {
    this.probing ??= this.measure().finally(() => {
      this.probing = undefined;
    });
    return this.probing;
  }

  private async measure(): Promise<void> {
    try {
      // A parameter on purpose: see HealthService.readiness (PgBouncer and pipelined statements).
      const [row] = await within(
        this.sql<{ lag: number }[]>`
          SELECT CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                      ELSE greatest(0, extract(epoch FROM now() - pg_last_xact_replay_timestamp())) END::float8 * ${1}::int AS lag`,
        this.options.timeoutMs,
      );
      this.lagSeconds = row?.lag ?? 0;
      this.setReachable(true, "probe answered");
    } catch (err) {
      this.lagSeconds = undefined;
      this.setReachable(false, err instanceof Error ? err.message : String(err));
    }
  }

  private setReachable(up: boolean, reason: string): void {
    if (this.reachable === up) return;
    this.reachable = up;
    this.options.onStateChange?.(up, reason);
  }

  /**
   * `onReplica` when the replica is usable, else (or when it fails, is too slow, or `accept`
   * rejects its answer) `onPrimary`. A replica that fails on an outage or times out is set aside.
   */
  async read<T>(onReplica: () => Promise<T>, onPrimary: () => Promise<T>, accept: (v: T) => boolean = () => true): Promise<T> {
    if (!this.usable) return this.count("primary_replica_unavailable", onPrimary);
    let value: T;
    try {
      value = await within(onReplica(), this.options.timeoutMs);
    } catch (err) {
      if (err instanceof ReplicaTimeout || isDatabaseOutage(err)) {
        this.lagSeconds = undefined;
        this.setReachable(false, err instanceof Error ? err.message : String(err));
      }
      return this.count("primary_error", onPrimary);
    }
    if (!accept(value)) return this.count("primary_missing", onPrimary);
    this.counts.replica++;
    return value;
  }

  count<T>(target: ReadTarget, call: () => Promise<T>): Promise<T> {
    this.counts[target]++;
    return call();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.probing;
    await this.sql.end({ timeout: 5 });
  }
}

class ReplicaTimeout extends Error {}

const within = <T>(p: PromiseLike<T>, ms: number): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    Promise.resolve(p).finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ReplicaTimeout(`the replica did not answer within ${ms} ms`)), ms);
    }),
  ]);
};

/** Which methods of a store read what: by id (a missing answer is asked of the primary), lists, and writes by id. */
export interface ReadRoutes<T> {
  /** Reads of one entity, its id the first argument: an undefined or null answer is asked of the primary. */
  byId: readonly (keyof T & string)[];
  /** Lists: served by the replica as they are (they may lag). */
  lists: readonly (keyof T & string)[];
  /** Writes, the id (or an array of ids) the first argument: by-id reads of those go to the primary for maxLagMs. */
  writes: readonly (keyof T & string)[];
}

/**
 * `primary` (a store, its calls guarded by the primary's breaker) with its read methods sent to `onReplica` (the same store on the replica's
 * pool) through `replica.read`. A client never misses its own write: a by-id read the replica does
 * not answer comes from the primary, and an entity this process changed or deleted is read from
 * the primary for maxLagMs (longer than the replica may lag while it is used); lists may lag.
 */
export function readRouted<T extends object>(primary: T, onReplica: T, replica: ReadReplica, routes: ReadRoutes<T>): T {
  const recent = new RecentWrites(replica.options.maxLagMs);
  const wrapper = Object.create(primary) as Record<string, unknown>;
  const method = (target: T, name: string) => (Reflect.get(target, name) as (...a: unknown[]) => Promise<unknown>).bind(target);
  for (const name of routes.writes) {
    const write = method(primary, name);
    wrapper[name] = (...args: unknown[]) => {
      const ids = (Array.isArray(args[0]) ? args[0] : [args[0]]).map((id) => String(id).toLowerCase());
      for (const id of ids) recent.add(id);
      return write(...args).finally(() => {
        for (const id of ids) recent.add(id);
      });
    };
  }
  for (const name of routes.byId) {
    const [fromReplica, fromPrimary] = [method(onReplica, name), method(primary, name)];
    wrapper[name] = (...args: unknown[]) =>
      recent.has(String(args[0]).toLowerCase())
        ? replica.count("primary_recent_write", () => fromPrimary(...args))
        : replica.read(
            () => fromReplica(...args),
            () => fromPrimary(...args),
            (v) => v !== undefined && v !== null,
          );
  }
  for (const name of routes.lists) {
    const [fromReplica, fromPrimary] = [method(onReplica, name), method(primary, name)];
    wrapper[name] = (...args: unknown[]) =>
      replica.read(
        () => fromReplica(...args),
        () => fromPrimary(...args),
      );
  }
  return wrapper as T;
}

/** Ids written in the last `ms`, forgotten lazily (a sweep on add once the map holds old entries). */
class RecentWrites {
  private readonly until = new Map<string, number>();
  private sweepAt = 0;

  constructor(private readonly ms: number) {}

  add(id: string): void {
    const now = Date.now();
    this.until.set(id, now + this.ms);
    if (now >= this.sweepAt) {
      for (const [k, t] of this.until) if (t <= now) this.until.delete(k);
      this.sweepAt = now + this.ms;
    }
  }

  has(id: string): boolean {
    const t = this.until.get(id);
    return t !== undefined && t > Date.now();
  }
}
