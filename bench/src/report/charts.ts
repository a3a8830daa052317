/** The report's Chart.js configurations: colours, datasets and bar charts, JSON only. */
import type { ChartSpec } from "./blocks.ts";

/** Colours of the plots: Bun orange, Node green, the published reference rows grey-blue. */
export const COLOR = {
  bun: "#e8590c",
  bunLight: "#ffc078",
  node: "#2b8a3e",
  nodeLight: "#8ce99a",
  reference: ["#748ffc", "#adb5bd", "#4c6ef5", "#868e96"],
} as const;

export const bar = (label: string, data: number[], color: string, extra: Record<string, unknown> = {}) => ({
  label,
  data: data.map((v) => (Number.isFinite(v) ? Math.round(v * 100) / 100 : null)),
  backgroundColor: color,
  borderColor: color,
  ...extra,
});

export const axisTitle = (text: string) => ({ display: true, text });

export function barChart(
  id: string,
  title: string,
  labels: string[],
  datasets: unknown[],
  yTitle: string,
  opts: { height?: number; logY?: boolean; wide?: boolean } = {},
): ChartSpec {
  return {
    id,
    title,
    height: opts.height,
    wide: opts.wide,
    config: {
      type: "bar",
      data: { labels, datasets },
      options: {
        plugins: { title: { display: true, text: title }, legend: { position: "bottom" } },
        scales: { y: { type: opts.logY ? "logarithmic" : "linear", beginAtZero: !opts.logY, title: axisTitle(yTitle) } },
      },
    },
  };
}
