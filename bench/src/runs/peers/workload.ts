/**
 * The workload every peer runs: a trivial 3-step sequential workflow, each step a durable step of
 * that engine. Loaded both by Bun (the CLI) and by Node (the peers' app processes, with Node's
 * type stripping), so only erasable TypeScript here and no imports.
 */

export interface RunInput {
  x: number;
}

export interface StepValue {
  v: number;
}

/** What step 3 returns: the line it logged, and the value it logged. */
export interface LoggedLine {
  line: string;
  v: number;
}

/** Step 1, transform: `{ v: input.x + 1 }`. */
export function transformOne(input: RunInput): StepValue {
  return { v: input.x + 1 };
}

/** Step 2, transform: `{ v: prev.v * 2 }`. */
export function transformTwo(prev: StepValue): StepValue {
  return { v: prev.v * 2 };
}

/** Step 3, log: logs one line (to the process's stdout, the peer's log file) and returns it. */
export function logLine(runId: string, prev: StepValue): LoggedLine {
  const line = `peer-bench run ${runId} v=${prev.v}`;
  console.log(line);
  return { line, v: prev.v };
}

/** The value a completed run must report for `x`: the check that a run really ran all three steps. */
export function expectedValue(x: number): number {
  return (x + 1) * 2;
}

export function isRunInput(u: unknown): u is RunInput {
  return typeof u === "object" && u !== null && typeof (u as { x?: unknown }).x === "number" && Number.isFinite((u as RunInput).x);
}

export function isLoggedLine(u: unknown): u is LoggedLine {
  return (
    typeof u === "object" &&
    u !== null &&
    typeof (u as { line?: unknown }).line === "string" &&
    typeof (u as { v?: unknown }).v === "number"
  );
}
