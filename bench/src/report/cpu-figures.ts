/** How the machine's CPU was shared during the flows and the warm-ups, as figures of both targets. */
import { FLOW_RATIO_TARGET } from "../compare.ts";
import { type FlowRun, STACK_SERVICES, type StackService, type Target, type WarmupRun } from "../results.ts";
import { byRound, type Figure, figure, pairedRounds } from "./figures.ts";

/** A round's CPU with the flow's request count, so that machine-wide seconds can be put per request. */
const cpuPerRound = (r: FlowRun) => r.cpu && { ...r.cpu, requests: r.requests };
type RoundCpu = NonNullable<ReturnType<typeof cpuPerRound>>;
const perRequestUs = (c: RoundCpu, s: number) => (c.requests > 0 ? (s * 1e6) / c.requests : Number.NaN);
const machineUs = (c: RoundCpu) => perRequestUs(c, c.api_s + c.workers_s + c.runner_s + c.rest_s);
const outsideApiUs = (c: RoundCpu) => perRequestUs(c, c.workers_s + c.runner_s + c.rest_s);

/** How the machine's CPU was shared during the flows, for the rounds that recorded it. */
export function cpuFigures(flow: FlowRun[]): Figure[] {
  const { f, parts } = pairedRounds(flow, cpuPerRound);
  // Older results did not split user and kernel time.
  const split = parts.every((c) => c.api_kernel_us_per_request !== undefined);
  return [
    f("API CPU per request", "µs", (c) => c.api_us_per_request),
    ...(split
      ? [
          f("… of it in user space", "µs", (c) => c.api_us_per_request - c.api_kernel_us_per_request!),
          f("… of it in the kernel", "µs", (c) => c.api_kernel_us_per_request!),
        ]
      : []),
    ...(parts.every((c) => c.api_helper_threads_us_per_request !== undefined)
      ? [
          f("… of it on the main threads (event loops)", "µs", (c) => c.api_us_per_request - c.api_helper_threads_us_per_request!),
          f("… of it on the runtime's helper threads", "µs", (c) => c.api_helper_threads_us_per_request!),
        ]
      : []),
    f("Machine CPU per request", "µs", machineUs),
    f("… of it outside the API", "µs", outsideApiUs),
    f("API target", "s", (c) => c.api_s),
    f("Workers", "s", (c) => c.workers_s),
    f("Flow runner (the load generator)", "s", (c) => c.runner_s),
    f("Rest: PostgreSQL, PgBouncer, Redis, Kafka, kernel", "s", (c) => c.rest_s),
    ...stackRows(parts, f),
    f("Machine busy", "%", (c) => c.machine_busy_pct),
  ];
}

const STACK_LABEL: Record<StackService, string> = { postgres: "PostgreSQL", pgbouncer: "PgBouncer", redis: "Redis", kafka: "Kafka" };

/**
 * The rest split by the stack's services, for those every round measured (older results and
 * services elsewhere have none), and what is left of it: the kernel's own threads and the rest.
 */
function stackRows(parts: RoundCpu[], f: (metric: string, unit: string, get: (c: RoundCpu) => number) => Figure): Figure[] {
  const measured = STACK_SERVICES.filter((s) => parts.length > 0 && parts.every((c) => c.stack_s?.[s] !== undefined));
  if (measured.length === 0) return [];
  const of = (c: RoundCpu, s: StackService) => c.stack_s![s]!;
  return [
    ...measured.map((s) => f(`… of it ${STACK_LABEL[s]}`, "s", (c) => of(c, s))),
    f("… of it the kernel's threads and everything else", "s", (c) =>
      Math.max(0, c.rest_s - measured.reduce((sum, s) => sum + of(c, s), 0)),
    ),
  ];
}

/**
 * What the flow-throughput target asks of the Bun API, as arithmetic on the medians of the CPU
 * figures: were the flow's throughput set by the machine's CPU per request alone, Bun/Node would be
 * Node's machine CPU per request over Bun's. Undefined unless both targets recorded their CPU.
 */
export function ratioBudget(cpu: Figure[], measuredRatio: number, target = FLOW_RATIO_TARGET) {
  const get = (metric: string) => cpu.find((f) => f.metric === metric);
  const [api, machine, outside] = [get("API CPU per request"), get("Machine CPU per request"), get("… of it outside the API")];
  if (!api || !machine || !outside || !api.bun.length || !machine.node.length) return undefined;
  return {
    target,
    measuredRatio,
    bunMachineUs: machine.bunMedian,
    nodeMachineUs: machine.nodeMedian,
    cpuRatio: machine.nodeMedian / machine.bunMedian,
    bunOutsideUs: outside.bunMedian,
    nodeOutsideUs: outside.nodeMedian,
    bunApiUs: api.bunMedian,
    /** The most the Bun API could cost per request for the target, the rest costing what it did. */
    bunApiAllowedUs: machine.nodeMedian / target - outside.bunMedian,
    /** Bun/Node with a Bun API that cost nothing. */
    ceiling: machine.nodeMedian / outside.bunMedian,
    nodeApiUs: api.nodeMedian,
    /**
     * Bun/Node with nothing but the API on the CPU (the rest on other machines): the most a flow
     * bound by CPU could give at these API costs, however the rest of the deployment is laid out.
     */
    apiBound: api.nodeMedian / api.bunMedian,
  };
}

/**
 * The API's CPU per request in each warm-up and then in the measured flow: how far each target's
 * code had settled (compiled) when it was measured. One figure per step, medians over rounds.
 */
export function warmupFigures(
  warmups: WarmupRun[],
  flow: FlowRun[],
  get: (c: PerRequestCpu) => number | undefined = (c) => c.api_us_per_request,
): Figure[] {
  const steps = [...new Set(warmups.map((w) => w.index))].sort((a, b) => a - b);
  const of = (t: Target, k: number) => byRound(warmups.filter((w) => w.target === t && w.index === k)).map((w) => get(w) ?? Number.NaN);
  return [
    ...steps.map((k) => figure(`Warm-up ${k}`, "µs", false, of("bun", k), of("node", k))),
    pairedRounds(flow, (r) => r.cpu).f("Measured flow", "µs", (c) => get(c) ?? Number.NaN),
  ];
}

/** The API's CPU per request, as a warm-up and a measured flow both record it. */
type PerRequestCpu = Pick<WarmupRun, "api_us_per_request" | "api_helper_threads_us_per_request">;

/** Whether every warm-up and measured flow recorded the helper threads' part (older results did not). */
export const helpersRecorded = (warmups: WarmupRun[], flow: FlowRun[]) =>
  [...warmups, ...flow.map((r) => r.cpu)].every((c) => c?.api_helper_threads_us_per_request !== undefined);
