import type { RunStatus } from "../runs/run.ts";
import { type Redactor, redactor } from "../secrets/redact.ts";
import { references, renderDeep, type Scope, stringsIn } from "../templates/template.ts";
import type { HttpConfig, Step } from "../workflows/definition.ts";
import { type AttemptContext, type Attempting, Park, waitUntil } from "./attempts.ts";
import { StepFailure } from "./step-failure.ts";

/** What an http step records as its output. */
export interface HttpStepOutput {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** A child run as the parent's step sees it. */
export interface ChildRun {
  status: RunStatus;
  output: unknown;
  error: string | null;
}

/**
 * What waits on the world need: signals and child runs. Each call names its wait with a `key`
 * stable across redeliveries (run, step, attempt, item), so a redo finds the signal it took or the
 * child it started, instead of taking or starting another.
 */
export interface WaitDeps {
  takeSignal(name: string, key: string): Promise<{ payload: unknown } | undefined>;
  startChild(workflowId: string, input: unknown, key: string): Promise<string>;
  childRun(id: string): Promise<ChildRun | undefined>;
}

/** The values of secrets, read when an http step that names them is about to send its request. */
export interface SecretValues {
  /** The values of those of `names` that exist. */
  read(names: string[]): Promise<Map<string, string>>;
}

export interface StepDeps {
  http(config: HttpConfig, signal: AbortSignal): Promise<HttpStepOutput>;
  /** Absent: an http step that reads a secret fails. */
  secrets?: SecretValues;
  log(level: "debug" | "info" | "warn" | "error", message: string, fields: Record<string, unknown>): void;
  waits?: WaitDeps;
}

/** What templates read: v1's `steps.<name>` is the step's output; a `for_each` item adds `item` and `index`. */
export type StepScope = Scope & { item?: unknown; index?: number };

/** One attempt at a step's body. A long delay, a signal not yet come or a child still running returns a Park. */
export async function runStep(step: Step, scope: StepScope, record: Attempting, deps: StepDeps, ctx: AttemptContext): Promise<unknown> {
  switch (step.type) {
    case "http":
      return httpStep(step.config, scope, deps, ctx);
    case "delay": {
      const until = record.wait?.until ? new Date(record.wait.until) : new Date(ctx.now().getTime() + step.config.ms);
      return (await waitUntil(until, record, ctx)) ?? { waited_ms: step.config.ms };
    }
    case "transform":
      return renderDeep(step.config.output, scope);
    case "log": {
      const message = String(renderDeep(step.config.message, scope) ?? "");
      const level = step.config.level ?? "info";
      deps.log(level, message, { run_id: ctx.runId, step: step.name });
      return { message, level };
    }
    case "wait_for_signal": {
      // The deadline is fixed when the wait first starts, and kept in `wait` across parks.
      const { signal, timeout_ms } = step.config;
      const deadline = record.wait?.until
        ? new Date(record.wait.until)
        : timeout_ms !== undefined
          ? new Date(ctx.now().getTime() + timeout_ms)
          : null;
      return waitForSignal(signal, deadline, waitKey(step, record, scope), record, deps, ctx);
    }
    case "workflow":
      return runChild(step.config.workflow_id, renderDeep(step.config.input ?? {}, scope), waitKey(step, record, scope), record, deps);
  }
}

/** The secrets an http step's config reads (validation keeps them to its url, headers and body). */
const secretNames = (config: HttpConfig): string[] => {
  const names = new Set<string>();
  for (const [, text] of stringsIn(config, ""))
    for (const ref of references(text)) if ("root" in ref && ref.root === "secrets") names.add(ref.path[0]!);
  return [...names];
};

/**
 * An http step. Its secrets are read now, rendered into the request only, and every spelling of
 * their values is replaced by `[redacted]` in what comes back (output, error, the output of a
 * failed answer) before the engine records, logs or traces any of it.
 */
async function httpStep(config: HttpConfig, scope: StepScope, deps: StepDeps, ctx: AttemptContext): Promise<unknown> {
  const names = secretNames(config);
  if (names.length === 0) return deps.http(renderDeep(config, scope) as HttpConfig, ctx.signal);
  if (!deps.secrets) throw new StepFailure("this engine cannot read secrets", false);
  const values = await deps.secrets.read(names);
  const missing = names.filter((n) => !values.has(n));
  if (missing.length > 0) throw new StepFailure(`secret ${missing.join(", ")} does not exist`, false);
  const redact = redactor(values.values());
  const secrets: Record<string, string> = Object.assign(Object.create(null), Object.fromEntries(values));
  try {
    return redact.value(await deps.http(renderDeep(config, { ...scope, secrets }) as HttpConfig, ctx.signal));
  } catch (err) {
    throw redacted(err, redact);
  }
}

/** A failure with the secrets' values taken out of its message and output. */
function redacted(err: unknown, redact: Redactor): unknown {
  if (err instanceof StepFailure) return new StepFailure(redact.text(err.message), err.retryable, redact.value(err.output));
  if (err instanceof Error) return new Error(redact.text(err.message));
  return typeof err === "string" ? redact.text(err) : err;
}

/** Names one attempt's wait (of one item) the same way on every redelivery. */
const waitKey = (step: Step, record: Attempting, scope: StepScope) =>
  `${step.name}:${record.attempts}${scope.index === undefined ? "" : `:${scope.index}`}`;

const needWaits = (deps: StepDeps): WaitDeps => {
  if (!deps.waits) throw new StepFailure("this engine cannot wait for signals or child runs", false);
  return deps.waits;
};

/**
 * A signal wait: the signal's payload if one came (before or during the wait), else park until it
 * does or the timeout is over; past the timeout the attempt fails.
 */
export async function waitForSignal(
  signal: string,
  deadline: Date | null,
  key: string,
  record: Attempting,
  deps: StepDeps,
  ctx: AttemptContext,
): Promise<unknown> {
  const got = await needWaits(deps).takeSignal(signal, key);
  if (got) return got.payload;
  if (deadline && deadline.getTime() <= ctx.now().getTime()) throw new StepFailure(`no signal "${signal}" came in time`);
  record.wait = { signal, ...(deadline && { until: deadline.toISOString() }) };
  return new Park(deadline);
}

/** A child run: started once per attempt (by `key`), waited for parked; its output is the step's. */
export async function runChild(workflowId: string, input: unknown, key: string, record: Attempting, deps: StepDeps): Promise<unknown> {
  const waits = needWaits(deps);
  const id = record.wait?.child_run_id ?? (await waits.startChild(workflowId, input, key));
  const child = await waits.childRun(id);
  if (!child) throw new StepFailure(`child run ${id} does not exist`, false);
  if (child.status === "completed") return child.output;
  if (child.status === "failed" || child.status === "cancelled")
    throw new StepFailure(`child run ${id} ${child.status}${child.error ? `: ${child.error}` : ""}`);
  record.wait = { child_run_id: id };
  return new Park(null);
}
