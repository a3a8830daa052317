import { createHash } from "node:crypto";
import { type Run, TERMINAL, toRun } from "@wf/core/runs";
import type { RunEventRow } from "../store.ts";

/** One event a stream may send: its name, its data (JSON), and the hash that stands for it in event ids. */
export interface EventItem {
  event: "run" | "step";
  data: string;
  hash: string;
}

/**
 * A run's state as events: slot 0 is the run (without its steps), slot i + 1 the step at index i of
 * its definition (empty until the step started). Built once per read of the run and shared by
 * every stream of it.
 */
export interface RunSnapshot {
  revision: string;
  terminal: boolean;
  /** Cancelled, and its worker is yet to record how the steps it ran ended (a moment: it polls for cancels). */
  settling: boolean;
  items: (EventItem | undefined)[];
}

/** The run as GET /runs/{id} shows it (toRun, so a field added there is here too), without its input and steps. */
function runWithoutSteps(row: RunEventRow): Omit<Run, "input" | "steps"> {
  const { input: _input, steps: _steps, ...run } = toRun({ ...row, input: null, idempotency_key: null });
  return run;
}

const SLOT = 6;
const NONE = "-".repeat(SLOT);

/** 30 bits of the data's SHA-1, as 6 base-36 characters (a fixed width, so an id needs no separators). */
const hashOf = (data: string): string =>
  ((createHash("sha1").update(data).digest().readUInt32BE(0) >>> 2) % 36 ** SLOT).toString(36).padStart(SLOT, "0");

const item = (event: EventItem["event"], value: unknown): EventItem => {
  const data = JSON.stringify(value);
  return { event, data, hash: hashOf(data) };
};

export function snapshotOf(row: RunEventRow): RunSnapshot {
  const items: (EventItem | undefined)[] = [item("run", runWithoutSteps(row))];
  const index = new Map(row.step_names.map((name, i) => [name, i]));
  for (const step of row.steps) {
    const i = index.get(step.name) ?? Math.max(index.size, items.length - 1);
    items[i + 1] = item("step", { index: i, ...step });
  }
  return { revision: row.revision, terminal: TERMINAL.has(row.status), settling: row.settling, items };
}

/*
 * Event ids. A stream sends states, not transitions, and only the latest state of a run is stored,
 * so an id that named a point in a history (a sequence number, a revision) could not be resumed
 * exactly: the server would have to know what the client had at that point, and that history is
 * kept nowhere. Instead an event's id is the client's whole view after that event: one 6-character
 * hash per slot (the run, then each step in definition order; "------" for none). Resuming, any
 * replica compares that view with the current state read from PostgreSQL and sends exactly the
 * slots whose state differs, in the usual order: nothing the client has is sent twice, nothing it
 * lacks is missed, whatever it missed in between, and no replica needs to have seen the stream.
 * A run has at most a few dozen steps, so an id stays a few hundred characters at most; a changed
 * state is taken for the one the client has only if their 30-bit hashes collide (about 1 in 10^9).
 */

/** The client's view from a Last-Event-ID; undefined when the id is not one of ours. */
export function parseEventId(id: string): string[] | undefined {
  if (id.length % SLOT !== 0 || !/^[0-9a-z-]*$/.test(id)) return undefined;
  const view: string[] = [];
  for (let i = 0; i < id.length; i += SLOT) {
    const slot = id.slice(i, i + SLOT);
    view.push(slot === NONE ? "" : slot);
  }
  return view;
}

export const eventIdOf = (view: readonly string[]): string => view.map((h) => h || NONE).join("");

/**
 * The slots whose state the view lacks, in the order they are sent: the run first while it goes on,
 * last once it is over (so the terminal run event is the stream's last), the steps in definition order.
 */
export function changedSlots(view: readonly string[], snap: RunSnapshot): number[] {
  const order: number[] = [];
  if (!snap.terminal) order.push(0);
  for (let i = 1; i < snap.items.length; i++) order.push(i);
  if (snap.terminal) order.push(0);
  return order.filter((i) => {
    const it = snap.items[i];
    return it !== undefined && it.hash !== (view[i] ?? "");
  });
}
