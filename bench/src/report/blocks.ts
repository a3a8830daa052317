/**
 * The report as a list of blocks (headings, sentences, tables, lists, charts), built once from
 * results.json and written out twice: as Markdown (charts left out) and as HTML (charts drawn).
 * So both files always say the same thing.
 *
 * Text may use **bold** and `code`; both renderers understand those two and nothing else.
 */
export type Align = "l" | "r";

export interface ChartSpec {
  id: string;
  title: string;
  /** A Chart.js configuration (JSON only: no callbacks), drawn by the inlined Chart.js. */
  config: { type: "bar" | "line"; data: unknown; options?: Record<string, unknown> };
  /** Taller charts for many categories. */
  height?: number;
  /** Spans the whole width of the page instead of half of it. */
  wide?: boolean;
}

export type Block =
  | { kind: "h1" | "h2" | "h3"; text: string; id?: string }
  | { kind: "p"; text: string }
  | { kind: "table"; head: string[]; rows: string[][]; align: Align[]; compact?: boolean }
  | { kind: "list"; items: string[] }
  | { kind: "charts"; charts: ChartSpec[] };

/** What a section writes with: each call appends one block to `blocks`, in order. */
export interface BlockWriter {
  blocks: Block[];
  h1(text: string): void;
  h2(text: string, id: string): void;
  h3(text: string): void;
  p(text: string): void;
  /** Columns align left for the first, right for the others, unless `align` says otherwise. */
  table(head: string[], rows: string[][], align?: Align[], opts?: { compact?: boolean }): void;
  list(items: string[]): void;
  charts(charts: ChartSpec[]): void;
}

export function blockWriter(): BlockWriter {
  const blocks: Block[] = [];
  return {
    blocks,
    h1: (text) => blocks.push({ kind: "h1", text }),
    h2: (text, id) => blocks.push({ kind: "h2", text, id }),
    h3: (text) => blocks.push({ kind: "h3", text }),
    p: (text) => blocks.push({ kind: "p", text }),
    table: (head, rows, align, opts) =>
      blocks.push({
        kind: "table",
        head,
        rows,
        align: align ?? head.map((_, i) => (i === 0 ? "l" : "r")),
        ...(opts?.compact && { compact: true }),
      }),
    list: (items) => blocks.push({ kind: "list", items }),
    charts: (charts) => blocks.push({ kind: "charts", charts }),
  };
}
