import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Position } from "@wf/core/pagination";
import type { RunFilter } from "@wf/core/runs";
import { loadConfig } from "@wf/platform/config";
import { createSql, migrate, type Sql } from "@wf/platform/sql";
import { RUN_COLUMNS, runPageSql } from "@wf/services/runs";
import { ensureSeeded, ROWS, SCHEMA, seededId } from "../support/explain-10m.ts";

// The plans of the run list's queries, and of a bulk action's selection, at 10 million runs: the
// exact SQL the store sends (runPageSql), run with EXPLAIN ANALYZE against a seeded copy of the
// runs table with the migrations' indexes (tests/support/explain-10m.ts; seeded once, minutes, then
// kept). Every filter combination, its first page and the page after its cursor, must read an
// index in order and stop after the page: no Seq Scan, and no node (a scan, a sort) that handles
// more rows than a few pages' worth.
const config = loadConfig(process.env);
let direct: Sql;
let conn: Sql & { release(): void };
beforeAll(async () => {
  direct = createSql(config, config.databaseDirectUrl, 2);
  await migrate(direct);
  const seeded = await ensureSeeded(direct, (line) => console.log(`[explain_10m] ${line}`));
  console.log(seeded.seconds > 0 ? `[explain_10m] seeded ${ROWS} rows in ${seeded.seconds.toFixed(0)} s` : "[explain_10m] already seeded");
  conn = await direct.reserve();
  await conn`SELECT set_config('search_path', ${SCHEMA}, false)`;
}, 1_800_000);
afterAll(async () => {
  conn?.release();
  await direct?.end();
});

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Actual Rows": number;
  "Actual Loops": number;
  "Rows Removed by Filter"?: number;
  "Rows Removed by Index Recheck"?: number;
  "Shared Hit Blocks": number;
  "Shared Read Blocks": number;
  Plans?: PlanNode[];
}

const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];
/** Rows a node handled: those it passed on and those its filter dropped, over all its loops. */
const handled = (n: PlanNode) =>
  (n["Actual Rows"] + (n["Rows Removed by Filter"] ?? 0) + (n["Rows Removed by Index Recheck"] ?? 0)) * n["Actual Loops"];
/** Pages read by the whole plan: also counts index entries an index condition skipped, which no row count shows. */
const blocks = (root: PlanNode) => root["Shared Hit Blocks"] + root["Shared Read Blocks"];
const describeNode = (n: PlanNode) => `${n["Node Type"]}${n["Index Name"] ? ` ${n["Index Name"]}` : ""} (${handled(n)} rows)`;

type Plan = "custom" | "generic";
const literal = (v: unknown) =>
  typeof v === "number" ? String(v) : `'${(v instanceof Date ? v.toISOString() : String(v)).replaceAll("'", "''")}'`;
let prepared = 0;

/**
 * EXPLAIN ANALYZE of the store's statement. "custom": planned with its values, as the driver's
 * statements are at first; "generic": planned without them, as a prepared statement may be once
 * PostgreSQL has run it five times (DB_PREPARE), forced here with plan_cache_mode.
 */
async function plan(filter: RunFilter, columns: string, limit: number, after: Position | undefined, mode: Plan): Promise<PlanNode> {
  type Explained = { "QUERY PLAN": Array<{ Plan: PlanNode }> }[];
  const query = runPageSql(conn, columns, filter, limit, after);
  if (mode === "custom") {
    const [row] = await conn<Explained>`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${query}`;
    return row!["QUERY PLAN"][0]!.Plan;
  }
  // The driver's text and values of the statement (describe() builds them without running it).
  const { string } = await query.describe();
  const values = (query as unknown as { parameters: unknown[] }).parameters;
  const name = `run_page_${++prepared}`;
  await conn.unsafe(`PREPARE ${name} AS ${string}`);
  try {
    await conn.unsafe("SET plan_cache_mode = force_generic_plan");
    const [row] = (await conn.unsafe(
      `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE ${name}(${values.map(literal).join(", ")})`,
    )) as unknown as Explained;
    return row!["QUERY PLAN"][0]!.Plan;
  } finally {
    await conn.unsafe("RESET plan_cache_mode");
    await conn.unsafe(`DEALLOCATE ${name}`);
  }
}

/** The page's rows as the store reads them, for the position after the page's last one. */
async function lastOf(filter: RunFilter, limit: number): Promise<Position | undefined> {
  const rows = await conn<{ id: string; created_at: Date }[]>`${runPageSql(conn, "id, created_at", filter, limit)}`;
  const last = rows.at(-1);
  return last && { createdAt: last.created_at, id: last.id };
}

const PAGE = 51; // limit 50, and the row that says whether a next page exists
const hot = seededId.workflow(0);
const cold = seededId.workflow(997);
const december = new Date("2026-12-01T00:00:00Z");
const cases: Array<[string, RunFilter]> = [
  ["no filter", {}],
  ["status (completed)", { status: ["completed"] }],
  ["status (pending, rare)", { status: ["pending"] }],
  ["statuses pending,running", { status: ["pending", "running"] }],
  ["statuses failed,cancelled", { status: ["failed", "cancelled"] }],
  ["all five statuses", { status: ["pending", "running", "completed", "failed", "cancelled"] }],
  ["created range", { createdAfter: new Date("2026-03-01T00:00:00Z"), createdBefore: new Date("2026-03-02T00:00:00Z") }],
  ["statuses pending,running + created_after", { status: ["pending", "running"], createdAfter: december }],
  [
    "statuses failed,cancelled + created range",
    { status: ["failed", "cancelled"], createdAfter: new Date("2026-05-01T00:00:00Z"), createdBefore: new Date("2026-05-03T00:00:00Z") },
  ],
  ["busiest workflow", { workflowId: hot }],
  ["quiet workflow", { workflowId: cold }],
  ["busiest workflow + failed", { workflowId: hot, status: ["failed"] }],
  ["quiet workflow + pending,running", { workflowId: cold, status: ["pending", "running"] }],
  ["busiest workflow + cancelled,failed + created range", { workflowId: hot, status: ["failed", "cancelled"], createdBefore: december }],
  ["schedule", { scheduleId: seededId.schedule(5) }],
  ["schedule + failed", { scheduleId: seededId.schedule(5), status: ["failed"] }],
  [
    "schedule + pending,running + created_after",
    { scheduleId: seededId.schedule(5), status: ["pending", "running"], createdAfter: december },
  ],
  ["parent", { parentRunId: seededId.parent(77) }],
  ["parent + running", { parentRunId: seededId.parent(77), status: ["running"] }],
  ["quiet workflow + parent", { workflowId: cold, parentRunId: seededId.parent(123) }],
];

describe(`run list plans at ${ROWS / 1e6} million runs`, () => {
  for (const [name, filter] of cases)
    test(`${name}: first page and next page read an index in order, a page's worth of rows, with or without the values`, async () => {
      const after = await lastOf(filter, PAGE - 1);
      for (const mode of ["custom", "generic"] as const)
        for (const [page, pos] of [
          ["first", undefined],
          ["next", after],
          // A position above a created_before (the store keeps only the tighter of the two bounds).
          ...(filter.createdBefore
            ? [["above the range", { createdAt: new Date("2026-12-20T00:00:00Z"), id: "ffffffff-ffff-7fff-bfff-ffffffffffff" }] as const]
            : []),
        ] as const) {
          const root = await plan(filter, RUN_COLUMNS, PAGE, pos, mode);
          const all = nodes(root);
          console.log(`${name}, ${page} page, ${mode} plan: ${all.map(describeNode).join(" > ")}; ${blocks(root)} pages`);
          expect(all.filter((n) => n["Node Type"] === "Seq Scan").map(describeNode)).toEqual([]);
          // Each status branch reads at most a page (and one row past it); a filter on top of an
          // index may drop a few more. Nothing reads thousands of rows, or of pages.
          expect(all.filter((n) => handled(n) > 10 * PAGE).map(describeNode)).toEqual([]);
          expect(blocks(root)).toBeLessThan(2_000);
          expect(all.some((n) => /Index/.test(n["Node Type"]))).toBe(true);
        }
    });

  test("a bulk action's selection (10,000 unfinished runs of a workflow, of all) reads no more than it takes", async () => {
    for (const filter of [{ status: ["pending", "running"] }, { workflowId: hot, status: ["pending", "running"] }] as RunFilter[]) {
      const root = await plan(filter, "id, created_at", 10_000, undefined, "custom");
      const all = nodes(root);
      console.log(`bulk selection ${JSON.stringify(filter)}: ${all.map(describeNode).join(" > ")}; ${blocks(root)} pages`);
      expect(all.filter((n) => n["Node Type"] === "Seq Scan").map(describeNode)).toEqual([]);
      expect(all.filter((n) => handled(n) > 2 * 10_000).map(describeNode)).toEqual([]);
    }
  });
});
