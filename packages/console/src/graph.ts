import dagre from "@dagrejs/dagre";

export interface GraphStep {
  name: string;
  needs?: readonly string[];
}

export interface LaidOut {
  width: number;
  height: number;
  nodes: { name: string; x: number; y: number; width: number; height: number }[];
  edges: { from: string; to: string; points: { x: number; y: number }[] }[];
}

export const NODE_WIDTH = 150;
export const NODE_HEIGHT = 40;

/**
 * The edges the engine runs by (packages/core/src/engine/planner.ts buildGraph): a step without
 * `needs` runs after the one before it, `needs: []` after none.
 */
export function edgesOf(steps: readonly GraphStep[]): [string, string][] {
  const index = new Map(steps.map((s, i) => [s.name, i]));
  return steps.flatMap((s, i): [string, string][] => {
    if (s.needs === undefined) return i === 0 ? [] : [[steps[i - 1]!.name, s.name]];
    return s.needs.filter((n) => (index.get(n) ?? i) < i).map((n): [string, string] => [n, s.name]);
  });
}

/** Left to right, laid out by dagre (layered, few crossings). */
export function layout(steps: readonly GraphStep[]): LaidOut {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 18, ranksep: 48, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const s of steps) g.setNode(s.name, { width: NODE_WIDTH, height: NODE_HEIGHT });
  const edges = edgesOf(steps);
  for (const [from, to] of edges) g.setEdge(from, to);
  dagre.layout(g);
  const size = g.graph();
  return {
    width: size.width ?? 0,
    height: size.height ?? 0,
    nodes: steps.map((s) => {
      const n = g.node(s.name);
      return { name: s.name, x: n.x - NODE_WIDTH / 2, y: n.y - NODE_HEIGHT / 2, width: NODE_WIDTH, height: NODE_HEIGHT };
    }),
    edges: edges.map(([from, to]) => ({ from, to, points: g.edge(from, to).points ?? [] })),
  };
}
