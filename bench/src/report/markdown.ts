import type { Block } from "./blocks.ts";

const cell = (s: string) => s.replaceAll("|", "\\|").replaceAll("\n", " ");

/** report.md: the blocks as GitHub-flavoured Markdown; charts are left to report.html. */
export function toMarkdown(blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case "h1":
        out.push(`# ${b.text}`);
        break;
      case "h2":
        out.push(`## ${b.text}`);
        break;
      case "h3":
        out.push(`### ${b.text}`);
        break;
      case "p":
        out.push(b.text);
        break;
      case "list":
        out.push(b.items.map((i) => `- ${i.replaceAll("\n", " ")}`).join("\n"));
        break;
      case "table": {
        const sep = b.align.map((a) => (a === "r" ? "---:" : ":---"));
        out.push(
          [`| ${b.head.map(cell).join(" | ")} |`, `| ${sep.join(" | ")} |`, ...b.rows.map((r) => `| ${r.map(cell).join(" | ")} |`)].join(
            "\n",
          ),
        );
        break;
      }
      case "charts":
        out.push(`_Plots in report.html: ${b.charts.map((c) => c.title).join("; ")}._`);
        break;
    }
  }
  return `${out.join("\n\n")}\n`;
}
