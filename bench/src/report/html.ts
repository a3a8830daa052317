import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Block, ChartSpec } from "./blocks.ts";

const escapeHtml = (s: string) =>
  s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&#39;");

/** Escapes, then turns the two inline marks the model uses (**bold**, `code`) into HTML. */
const inline = (s: string) =>
  escapeHtml(s)
    .replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>")
    .replace(/`([^`]+)`/g, "<code>$1</code>");

/** JSON that is safe inside a <script> element. */
const scriptJson = (v: unknown) =>
  JSON.stringify(v).replaceAll("<", "\\u003c").replaceAll("\u2028", "\\u2028").replaceAll("\u2029", "\\u2029");

/**
 * The UMD build of Chart.js from the installed npm package, to inline into the page (the report
 * must render with no internet access). Undefined when the package is not installed.
 */
export function chartJsSource(): string | undefined {
  let dir: string;
  try {
    dir = dirname(Bun.resolveSync("chart.js", import.meta.dir));
  } catch {
    return undefined;
  }
  const file = join(dir, "chart.umd.min.js");
  if (!existsSync(file)) return undefined;
  return readFileSync(file, "utf8")
    .replace(/\/\/# sourceMappingURL=\S+\s*$/, "")
    .replaceAll("</script", "<\\/script");
}

/**
 * A table cell. The ✅/❌ marks of report.md become a coloured ✓/✗, which every common font has
 * (colour emoji fonts are often missing on servers, and then the marks show as empty boxes).
 */
function td(text: string, align: "l" | "r"): string {
  const cls: string[] = [];
  if (align === "r") cls.push("r");
  let shown = text;
  if (text.startsWith("✅")) {
    cls.push("ok");
    shown = `✓${text.slice(1)}`;
  }
  if (text.startsWith("❌")) {
    cls.push("bad");
    shown = `✗${text.slice(1)}`;
  }
  return `<td${cls.length ? ` class="${cls.join(" ")}"` : ""}>${inline(shown)}</td>`;
}

function figure(c: ChartSpec): string {
  return `<figure class="chart${c.wide ? " wide" : ""}"><div class="canvas" style="height:${c.height ?? 320}px"><canvas id="${escapeHtml(c.id)}" role="img" aria-label="${escapeHtml(c.title)}"></canvas></div></figure>`;
}

const CSS = `
:root { --fg:#212529; --muted:#6c757d; --line:#dee2e6; --zebra:#f8f9fa; --ok:#2b8a3e; --bad:#c92a2a; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); margin: 0; background: #fff; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; padding-top: 8px; border-top: 2px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 6px; }
p { margin: 6px 0 10px; max-width: 80ch; }
nav { font-size: 13px; color: var(--muted); margin: 8px 0 4px; }
nav a { color: inherit; margin-right: 14px; }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 13.5px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #f1f3f5; font-weight: 600; }
.table { overflow-x: auto; max-width: 100%; }
.table.compact { display: inline-block; vertical-align: top; margin-right: 28px; }
tbody tr:nth-child(even) td { background: var(--zebra); }
td.r, th.r { text-align: right; }
td.r, td:first-child { white-space: nowrap; }
td.ok { color: var(--ok); font-weight: 600; white-space: nowrap; }
td.bad { color: var(--bad); font-weight: 600; white-space: nowrap; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f1f3f5; padding: 0 3px; border-radius: 3px; }
ul { margin: 6px 0 12px; padding-left: 22px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 18px; margin: 10px 0 18px; }
figure.chart { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 10px; }
figure.chart.wide { grid-column: 1 / -1; }
.canvas { position: relative; width: 100%; }
.nocharts { color: var(--bad); }
`;

/** report.html: every block, the charts drawn by Chart.js inlined into the page. */
export function toHtml(blocks: Block[], title: string, chartJs: string | undefined = chartJsSource()): string {
  const body: string[] = [];
  const charts: ChartSpec[] = [];
  const toc = blocks.flatMap((b) => (b.kind === "h2" && b.id ? [{ id: b.id, text: b.text }] : []));
  for (const b of blocks) {
    switch (b.kind) {
      case "h1":
        body.push(`<h1>${inline(b.text)}</h1>`);
        body.push(`<nav>${toc.map((h) => `<a href="#${escapeHtml(h.id)}">${inline(h.text)}</a>`).join("")}</nav>`);
        break;
      case "h2":
        body.push(`<h2${b.id ? ` id="${escapeHtml(b.id)}"` : ""}>${inline(b.text)}</h2>`);
        break;
      case "h3":
        body.push(`<h3>${inline(b.text)}</h3>`);
        break;
      case "p":
        body.push(`<p>${inline(b.text)}</p>`);
        break;
      case "list":
        body.push(`<ul>${b.items.map((i) => `<li>${inline(i)}</li>`).join("")}</ul>`);
        break;
      case "table":
        body.push(
          `<div class="table${b.compact ? " compact" : ""}"><table><thead><tr>${b.head.map((h, i) => `<th${b.align[i] === "r" ? ' class="r"' : ""}>${inline(h)}</th>`).join("")}</tr></thead><tbody>` +
            b.rows.map((r) => `<tr>${r.map((c, i) => td(c, b.align[i] ?? "l")).join("")}</tr>`).join("") +
            `</tbody></table></div>`,
        );
        break;
      case "charts":
        if (!chartJs) {
          body.push(
            `<p class="nocharts">Plots left out: the chart.js package was not installed when this report was rendered (run bun install, then bun bench/src/report/cli.ts on this folder).</p>`,
          );
          break;
        }
        charts.push(...b.charts);
        body.push(`<div class="charts">${b.charts.map(figure).join("")}</div>`);
        break;
    }
  }
  const script = chartJs
    ? `<script>${chartJs}</script>
<script type="application/json" id="chart-data">${scriptJson(charts)}</script>
<script>
(function () {
  var specs = JSON.parse(document.getElementById("chart-data").textContent);
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  var drawn = 0;
  specs.forEach(function (s) {
    var el = document.getElementById(s.id);
    try { new Chart(el, s.config); drawn++; }
    catch (e) { var p = document.createElement("p"); p.className = "nocharts"; p.textContent = "This plot failed to draw: " + e; el.parentNode.replaceWith(p); }
  });
  document.body.setAttribute("data-charts", drawn + "/" + specs.length);
})();
</script>`
    : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body.join("\n")}
</main>
${script}
</body>
</html>
`;
}
