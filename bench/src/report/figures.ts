/**
 * Figures compared between the two targets: each target's rounds, their medians, and the Bun/Node
 * ratio of rounds paired in the order they ran, with its spread.
 */
import type { FlowRun, Target } from "../results.ts";
import { DASH, inUnit, median, ratio } from "./format.ts";

export const byRound = <T extends { round: number }>(xs: T[]): T[] => [...xs].sort((a, b) => a.round - b.round);
export const errorPct = (f: FlowRun): number => (f.requests ? (100 * f.failed) / f.requests : 0);

/** One headline figure: per-target medians and the Bun/Node ratio of rounds paired in order. */
export interface Figure {
  metric: string;
  unit: string;
  higherIsBetter: boolean;
  bun: number[];
  node: number[];
  bunMedian: number;
  nodeMedian: number;
  ratio: number;
  ratioMin: number;
  ratioMax: number;
}

export function figure(metric: string, unit: string, higherIsBetter: boolean, bun: number[], node: number[]): Figure {
  const pairs = Math.min(bun.length, node.length);
  const ratios: number[] = [];
  for (let i = 0; i < pairs; i++) if (node[i] !== 0) ratios.push(bun[i]! / node[i]!);
  return {
    metric,
    unit,
    higherIsBetter,
    bun,
    node,
    bunMedian: median(bun),
    nodeMedian: median(node),
    ratio: median(ratios),
    ratioMin: ratios.length ? Math.min(...ratios) : Number.NaN,
    ratioMax: ratios.length ? Math.max(...ratios) : Number.NaN,
  };
}

/** Whether any round of either target gave this figure: a section without one is left out. */
export const anyRound = (f: Figure): boolean => f.bun.length + f.node.length > 0;

/** A figure's Bun, Node, Bun/Node and ratio-range cells. */
export const figureCells = (f: Figure): string[] => [
  inUnit(f.bunMedian, f.unit),
  inUnit(f.nodeMedian, f.unit),
  ratio(f.ratio),
  Number.isFinite(f.ratioMin) ? `${ratio(f.ratioMin)}–${ratio(f.ratioMax)}` : DASH,
];

/**
 * What one part of each round (the round itself, its CPU, its TCP) gives, for the rounds that
 * recorded it: `f` makes a figure of it, Bun's and Node's rounds paired in the order they ran.
 */
export function pairedRounds<T>(flow: FlowRun[], part: (r: FlowRun) => T | undefined) {
  const of = (t: Target) => byRound(flow.filter((r) => r.target === t && part(r) !== undefined)).map((r) => part(r)!);
  const [bun, node] = [of("bun"), of("node")];
  return {
    parts: [...bun, ...node],
    f: (metric: string, unit: string, pick: (x: T) => number, higherIsBetter = false) =>
      figure(metric, unit, higherIsBetter, bun.map(pick), node.map(pick)),
  };
}

/** The headline figures of the flow runs (medians over rounds; ratios of paired rounds). */
export function headlineFigures(flow: FlowRun[]): Figure[] {
  const { f } = pairedRounds(flow, (r) => r);
  return [
    f("Throughput, all requests", "req/s", (r) => r.throughput_rps, true),
    f("Throughput, successful requests", "req/s", (r) => r.throughput_ok_rps, true),
    f("Latency p50", "ms", (r) => r.overall.p50_ms),
    f("Latency p90", "ms", (r) => r.overall.p90_ms),
    f("Latency p95", "ms", (r) => r.overall.p95_ms),
    f("Latency p99", "ms", (r) => r.overall.p99_ms),
    f("Latency max", "ms", (r) => r.overall.max_ms),
    f("Error rate", "%", errorPct),
    f("Wall time", "s", (r) => r.wall_s),
    f("Users completed", "users", (r) => r.users_completed, true),
  ];
}

/** Which target a figure favours, and by how much: "Bun by 1.20×", "tie", or a dash. */
export function better(fig: Figure): string {
  if (!Number.isFinite(fig.ratio)) {
    if (fig.bunMedian === fig.nodeMedian && fig.bun.length && fig.node.length) return "tie";
    return DASH;
  }
  if (Math.abs(fig.ratio - 1) < 0.005) return "tie";
  const bunWins = fig.higherIsBetter ? fig.ratio > 1 : fig.ratio < 1;
  const factor = fig.ratio > 1 ? fig.ratio : 1 / fig.ratio;
  const who = bunWins ? "Bun" : "Node";
  return Number.isFinite(factor) ? `${who} by ${ratio(factor)}` : who;
}
