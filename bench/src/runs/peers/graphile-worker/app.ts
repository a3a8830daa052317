/**
 * The graphile-worker peer's application, run by Node.js: the worker in library mode (`run()`)
 * and a small HTTP server that enqueues, in one process. A run is three chained jobs: job 1
 * computes step 1 and enqueues job 2 with its value, job 2 enqueues job 3, job 3 logs the line.
 * Each step is durable the way graphile-worker makes it: a job row committed in PostgreSQL, retried
 * until it succeeds, deleted once done; the value passes from step to step in the next job's payload.
 *
 * Completion is observed in this process: the runner's `job:complete` event of job 3 (emitted once
 * its task succeeded and the worker has issued the job's completion, which it does not await).
 *
 *   node app.ts   (env: DATABASE_URL, PORT, GRAPHILE_CONCURRENCY, GRAPHILE_MAX_POOL_SIZE)
 */
import { randomUUID } from "node:crypto";
import { type JobHelpers, run, type TaskList } from "graphile-worker";
import { closeServer, onTermination, serveRuns } from "../app-http.ts";
import { type LoggedLine, logLine, transformOne, transformTwo } from "../workload.ts";

const connectionString = process.env.DATABASE_URL;
const port = Number(process.env.PORT);
const concurrency = Number(process.env.GRAPHILE_CONCURRENCY ?? 1);
const maxPoolSize = Number(process.env.GRAPHILE_MAX_POOL_SIZE ?? 10);
if (!connectionString || !port) throw new Error("DATABASE_URL and PORT are required");

interface StepOnePayload {
  runId: string;
  x: number;
}
interface NextPayload {
  runId: string;
  v: number;
}

function isStepOne(p: unknown): p is StepOnePayload {
  return (
    typeof p === "object" && p !== null && typeof (p as StepOnePayload).runId === "string" && typeof (p as StepOnePayload).x === "number"
  );
}
function isNext(p: unknown): p is NextPayload {
  return typeof p === "object" && p !== null && typeof (p as NextPayload).runId === "string" && typeof (p as NextPayload).v === "number";
}
function payloadError(task: string, p: unknown): Error {
  return new Error(`${task}: unexpected payload ${JSON.stringify(p)}`);
}

/** Step 3's result per run, kept until job 3's completion event hands it to the waiting request. */
const results = new Map<string, LoggedLine>();
const waiters = new Map<string, { resolve: (r: LoggedLine) => void; reject: (e: Error) => void }>();

const taskList: TaskList = {
  peer_step1: async (payload: unknown, helpers: JobHelpers) => {
    if (!isStepOne(payload)) throw payloadError("peer_step1", payload);
    const one = transformOne({ x: payload.x });
    await helpers.addJob("peer_step2", { runId: payload.runId, v: one.v });
  },
  peer_step2: async (payload: unknown, helpers: JobHelpers) => {
    if (!isNext(payload)) throw payloadError("peer_step2", payload);
    const two = transformTwo({ v: payload.v });
    await helpers.addJob("peer_step3", { runId: payload.runId, v: two.v });
  },
  peer_step3: async (payload: unknown) => {
    if (!isNext(payload)) throw payloadError("peer_step3", payload);
    results.set(payload.runId, logLine(payload.runId, { v: payload.v }));
  },
};

const runner = await run({ connectionString, concurrency, maxPoolSize, noHandleSignals: true, taskList });

runner.events.on("job:complete", ({ job, error }) => {
  if (job.task_identifier !== "peer_step3" || !isNext(job.payload)) return;
  const { runId } = job.payload;
  const waiter = waiters.get(runId);
  const result = results.get(runId);
  if (error != null || !waiter || !result) return; // `error` is null on success; a failed job 3 is retried by the worker
  waiters.delete(runId);
  results.delete(runId);
  waiter.resolve(result);
});

const server = await serveRuns(port, async (input) => {
  const runId = randomUUID();
  const done = new Promise<LoggedLine>((resolve, reject) => waiters.set(runId, { resolve, reject }));
  try {
    // addJob resolves once job 1 is committed: the run is durably accepted.
    await runner.addJob("peer_step1", { runId, x: input.x });
  } catch (e) {
    waiters.delete(runId);
    throw e;
  }
  return { id: runId, done };
});

onTermination(async () => {
  await closeServer(server);
  console.log("http server closed");
  for (const w of waiters.values()) w.reject(new Error("worker stopping"));
  await runner.stop();
  console.log("worker stopped");
});
console.log(`graphile-worker peer listening on 127.0.0.1:${port} (concurrency ${concurrency}, pool ${maxPoolSize})`);
