import type Redis from "ioredis";

/** The Redis pub/sub channel that tells a run changed; the message itself carries nothing. */
export const runChannel = (runId: string): string => `wf:run-changed:${runId.toLowerCase()}`;

/** The run id of a run channel; undefined for any other channel. */
export const runOfChannel = (channel: string): string | undefined =>
  channel.startsWith("wf:run-changed:") ? channel.slice("wf:run-changed:".length) : undefined;

export interface RunChangeStats {
  published: number;
  errors: number;
}

/**
 * Tells the API replicas that runs changed, after the write that changed them committed. Fire and
 * forget: nothing is awaited (commands of one event-loop turn go out as one pipelined write, see
 * createRedis) and a failure is only counted, so Redis being slow or down never slows or fails a
 * run. Pub/sub is at most once: readers re-read PostgreSQL on a slow poll too (RunEvents).
 */
export class RunChanges {
  readonly stats: RunChangeStats = { published: 0, errors: 0 };

  constructor(private readonly redis: Redis) {}

  changed(...runIds: string[]): void {
    for (const id of runIds) {
      this.stats.published++;
      this.redis.publish(runChannel(id), "").catch(() => {
        this.stats.errors++;
      });
    }
  }

  close(): void {
    this.redis.disconnect();
  }
}
