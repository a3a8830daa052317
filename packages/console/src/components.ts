import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { apiKey, type StepResult } from "./api.ts";
import { type GraphStep, layout } from "./graph.ts";

/** A step graph in SVG; with results, each node is coloured by its step's status (and says it). */
export function GraphView({ steps, results }: { steps: readonly GraphStep[]; results?: readonly StepResult[] }) {
  const g = layout(steps);
  const status = new Map(results?.map((r) => [r.name, r.status]));
  return html`<figure class="graph">
    <svg role="img" aria-label=${`step graph: ${steps.map((s) => s.name).join(", ")}`} width=${g.width} height=${g.height}
      viewBox=${`0 0 ${g.width} ${g.height}`}>
      <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
        <path d="M 0 0 L 10 5 L 0 10 z" fill="#555" /></marker></defs>
      ${g.edges.map(
        (e) => html`<polyline class="edge" points=${e.points.map((p) => `${p.x},${p.y}`).join(" ")} marker-end="url(#arrow)" />`,
      )}
      ${g.nodes.map((n) => {
        const s = status.get(n.name);
        return html`<g class=${`node ${s ?? "none"}`} data-step=${n.name} data-status=${s ?? ""}>
          <rect x=${n.x} y=${n.y} width=${n.width} height=${n.height} rx="6" />
          <text x=${n.x + n.width / 2} y=${n.y + (s ? 16 : 24)} text-anchor="middle">${n.name}</text>
          ${s ? html`<text class="status" x=${n.x + n.width / 2} y=${n.y + 32} text-anchor="middle">${s}</text>` : null}
        </g>`;
      })}
    </svg>
  </figure>`;
}

/** A Gantt chart of the steps' started_at → finished_at (a running step up to now). */
export function Timeline({ steps, now }: { steps: readonly StepResult[]; now: number }) {
  const timed = steps.filter((s) => s.started_at);
  if (timed.length === 0) return html`<p>No step has started yet.</p>`;
  const t = (v: string | null | undefined, fallback: number) => (v ? Date.parse(v) : fallback);
  const start = Math.min(...timed.map((s) => t(s.started_at, now)));
  const end = Math.max(...timed.map((s) => t(s.finished_at, now)), start + 1);
  const W = 560;
  const scale = W / (end - start);
  const row = 22;
  return html`<figure class="timeline">
    <svg role="img" aria-label="timeline of the steps" width=${W + 170} height=${timed.length * row + 24}>
      ${timed.map((s, i) => {
        const x = 160 + (t(s.started_at, now) - start) * scale;
        const w = Math.max(2, (t(s.finished_at, now) - t(s.started_at, now)) * scale);
        return html`<g class=${`bar ${s.status}`}>
          <text x="0" y=${i * row + 15}>${s.name}</text>
          <rect x=${x} y=${i * row + 4} width=${w} height=${row - 8} rx="3" />
          <title>${`${s.name}: ${s.status}, ${t(s.finished_at, now) - t(s.started_at, now)} ms`}</title>
        </g>`;
      })}
      <text x="160" y=${timed.length * row + 18}>0 ms</text>
      <text x=${160 + W} y=${timed.length * row + 18} text-anchor="end">${`${end - start} ms`}</text>
    </svg>
  </figure>`;
}

export const Json = ({ value }: { value: unknown }) => html`<pre class="json">${JSON.stringify(value, null, 2)}</pre>`;

/** The API key, typed once and kept for the tab. */
export function KeyBar({ onChange }: { onChange: () => void }) {
  const [value, setValue] = useState(apiKey.get() ?? "");
  return html`<form class="key" onSubmit=${(e: Event) => {
    e.preventDefault();
    apiKey.set(value.trim());
    onChange();
  }}>
    <label for="api-key">API key</label>
    <input id="api-key" type="password" autocomplete="off" value=${value} onInput=${(e: Event) => setValue((e.target as HTMLInputElement).value)} />
    <button type="submit">Use</button>
  </form>`;
}
