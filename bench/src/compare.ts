import type { Comparison, FlowRun, OhaRun, ReferenceRow, TargetCheck } from "./results.ts";

export const median = (xs: number[]): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const r2 = (v: number) => Math.round(v * 100) / 100;

/**
 * Bun against Node, figure by figure: the median of each target's rounds, and the ratio of the
 * rounds paired in the order they ran (A B A B …), with its spread, so drift of the machine
 * between rounds shows instead of hiding in one number.
 */
function compare(metric: string, unit: string, higher: boolean, bun: number[], node: number[]): Comparison {
  const pairs = Math.min(bun.length, node.length);
  const ratios = Array.from({ length: pairs }, (_, i) => (node[i]! === 0 ? 0 : bun[i]! / node[i]!));
  return {
    metric,
    unit,
    bun: r2(median(bun)),
    node: r2(median(node)),
    ratio: r2(median(ratios)),
    ratio_min: r2(Math.min(...(ratios.length ? ratios : [0]))),
    ratio_max: r2(Math.max(...(ratios.length ? ratios : [0]))),
    higher_is_better: higher,
  };
}

export function comparisons(flow: FlowRun[], oha: OhaRun[]): Comparison[] {
  const of = (t: "bun" | "node") => flow.filter((f) => f.target === t).sort((a, b) => a.round - b.round);
  const [b, n] = [of("bun"), of("node")];
  if (b.length === 0 || n.length === 0) return [];
  const out: Comparison[] = [
    compare(
      "flow throughput",
      "req/s",
      true,
      b.map((f) => f.throughput_rps),
      n.map((f) => f.throughput_rps),
    ),
    compare(
      "flow throughput, successful",
      "req/s",
      true,
      b.map((f) => f.throughput_ok_rps),
      n.map((f) => f.throughput_ok_rps),
    ),
    compare(
      "flow p50",
      "ms",
      false,
      b.map((f) => f.overall.p50_ms),
      n.map((f) => f.overall.p50_ms),
    ),
    compare(
      "flow p99",
      "ms",
      false,
      b.map((f) => f.overall.p99_ms),
      n.map((f) => f.overall.p99_ms),
    ),
    compare(
      "flow wall time",
      "s",
      false,
      b.map((f) => f.wall_s),
      n.map((f) => f.wall_s),
    ),
    compare(
      "flow failed requests",
      "count",
      false,
      b.map((f) => f.failed),
      n.map((f) => f.failed),
    ),
  ];
  for (const ep of [...new Set(oha.map((o) => o.endpoint))]) {
    const pick = (t: "bun" | "node") => oha.filter((o) => o.target === t && o.endpoint === ep).sort((x, y) => x.round - y.round);
    const [ob, on] = [pick("bun"), pick("node")];
    if (ob.length && on.length) {
      out.push(
        compare(
          `oha ${ep} throughput`,
          "req/s",
          true,
          ob.map((o) => o.rps),
          on.map((o) => o.rps),
        ),
      );
      out.push(
        compare(
          `oha ${ep} p99`,
          "ms",
          false,
          ob.map((o) => o.p99_ms),
          on.map((o) => o.p99_ms),
        ),
      );
    }
  }
  return out;
}

/** The seed reports' published figures (their hardware). */
export const REFERENCE: ReferenceRow[] = [
  {
    label: "Python (FastAPI), published, 1K users",
    users: 1000,
    throughput_rps: 1083.7,
    error_pct: 0,
    p50_ms: 539,
    p99_ms: 1076,
    wall_s: 6.46,
  },
  {
    label: "Rust (Actix-Web), published, 1K users",
    users: 1000,
    throughput_rps: 4016.8,
    error_pct: 0,
    p50_ms: 154,
    p99_ms: 364,
    wall_s: 1.74,
  },
  {
    label: "Python (FastAPI), published, 10K users",
    users: 10000,
    throughput_rps: 462.3,
    error_pct: 21.1,
    p50_ms: 7254,
    p99_ms: 25002,
    wall_s: 106.33,
  },
  {
    label: "Rust (Actix-Web), published, 10K users",
    users: 10000,
    throughput_rps: 1676.6,
    error_pct: 8.9,
    p50_ms: 2693,
    p99_ms: 9681,
    wall_s: 32.97,
  },
];
const RUST_1K_RPS = 4016.8;
/** The product's target for Bun's flow throughput over Node's, measured in the same run. */
export const FLOW_RATIO_TARGET = 1.5;

/** The product's targets for this scenario, met or not, from the Bun rounds. Never softened. */
export function checkTargets(users: number, flow: FlowRun[], auditsPassed: boolean, cmp: Comparison[]): TargetCheck[] {
  const bun = flow.filter((f) => f.target === "bun");
  const failed = bun.reduce((a, f) => a + f.failed, 0);
  const rps = median(bun.map((f) => f.throughput_rps));
  const p99 = median(bun.map((f) => f.overall.p99_ms));
  const fmt = (v: number) => v.toLocaleString("en-US", { maximumFractionDigits: 1 });
  const checks: TargetCheck[] = [
    { name: "failed requests (Bun, all rounds)", threshold: "0", value: String(failed), met: failed === 0 },
    {
      name: "every accepted run terminal; PostgreSQL matches; no duplicate idempotency key",
      threshold: "all audits pass",
      value: auditsPassed ? "all passed" : "failed",
      met: auditsPassed,
    },
  ];
  if (users >= 10_000) {
    checks.push({
      name: "p99 latency at 10K users (Bun, median of rounds)",
      threshold: "< 2,000 ms (Rust: 9,681)",
      value: `${fmt(p99)} ms`,
      met: p99 < 2000,
    });
    checks.push({
      name: "throughput at 10K users (Bun)",
      threshold: `> ${fmt(RUST_1K_RPS)} req/s (Rust at 1K)`,
      value: `${fmt(rps)} req/s`,
      met: rps > RUST_1K_RPS,
    });
  } else if (users >= 1000) {
    checks.push({
      name: "throughput at 1K users (Bun)",
      threshold: `≥ ${fmt(2 * RUST_1K_RPS)} req/s (2× Rust)`,
      value: `${fmt(rps)} req/s`,
      met: rps >= 2 * RUST_1K_RPS,
    });
  }
  const ratio = cmp.find((c) => c.metric === "flow throughput");
  const name = "Bun/Node flow throughput, same run";
  const threshold = `≥ ${FLOW_RATIO_TARGET}×`;
  checks.push(
    ratio
      ? { name, threshold, value: `${ratio.ratio}× (rounds ${ratio.ratio_min}–${ratio.ratio_max})`, met: ratio.ratio >= FLOW_RATIO_TARGET }
      : { name, threshold, value: "Node reference not measured", met: false },
  );
  return checks;
}

/** Below this a measured flow is too short for its throughput to say much: one pause of the machine moves it. */
export const SHORT_FLOW_S = 1;

/** A note for the report when some measured flow was shorter than SHORT_FLOW_S, else undefined. */
export function shortFlowNote(flow: FlowRun[]): string | undefined {
  const walls = flow.map((f) => f.wall_s);
  if (walls.length === 0 || Math.min(...walls) >= SHORT_FLOW_S) return undefined;
  const range = `${Math.min(...walls).toFixed(2)}–${Math.max(...walls).toFixed(2)} s`;
  return `The measured flows lasted ${range}: at this length one pause of the machine moves a round's throughput by tens of percent, so the Bun/Node ratio here says little about the runtimes. bench:10k runs flows of several seconds.`;
}
