import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Sql } from "@wf/platform/sql";
import { run } from "../processes.ts";
import type { Ceiling } from "./results.ts";

/**
 * What the same PostgreSQL allows: pgbench running a one-row insert-and-update transaction (the
 * least a durable run can cost: its creation and its terminal state) for `durationS`, through the
 * same path the engine uses. The engine's runs/s × commits per run over this tps is how close it
 * gets to the database's own limit on this machine.
 */
export async function pgbenchCeiling(
  sql: Sql,
  url: string,
  opts: { clients: number; durationS: number; via: Ceiling["via"] },
): Promise<Ceiling> {
  await sql`CREATE TABLE IF NOT EXISTS bench_ceiling (id bigint PRIMARY KEY, v int NOT NULL)`;
  await sql`TRUNCATE bench_ceiling`;
  const dir = mkdtempSync(join(tmpdir(), "bench-ceiling-"));
  try {
    const script = join(dir, "insert-update.sql");
    writeFileSync(
      script,
      [
        "\\set id random(1, 9000000000000000)",
        "BEGIN;",
        "INSERT INTO bench_ceiling (id, v) VALUES (:id, 0) ON CONFLICT (id) DO NOTHING;",
        "UPDATE bench_ceiling SET v = 1 WHERE id = :id;",
        "END;",
        "",
      ].join("\n"),
    );
    const u = new URL(url);
    const env = { PGPASSWORD: decodeURIComponent(u.password) };
    const out = await run(
      [
        "pgbench",
        "-n",
        "-h",
        u.hostname,
        "-p",
        u.port || "5432",
        "-U",
        decodeURIComponent(u.username),
        "-c",
        String(opts.clients),
        "-j",
        "2",
        "-T",
        String(opts.durationS),
        "-f",
        script,
        u.pathname.slice(1),
      ],
      env,
    );
    const tps = /tps = ([\d.]+)/.exec(out)?.[1];
    if (!tps) throw new Error(`pgbench printed no tps:\n${out}`);
    return { clients: opts.clients, duration_s: opts.durationS, tps: Math.round(Number(tps)), via: opts.via };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await sql`DROP TABLE IF EXISTS bench_ceiling`;
  }
}
