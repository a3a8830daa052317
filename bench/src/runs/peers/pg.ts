/**
 * The peers' own databases on the stack's PostgreSQL: made afresh at each start (so every
 * measurement starts from empty tables, as our own bench does), and their backends found for CPU
 * accounting.
 */
import { SQL } from "bun";
import { databaseUrl, PG_DIRECT_URL } from "./settings.ts";

function admin(): SQL {
  // The stack's role has CREATEDB; the maintenance database is `postgres`.
  return new SQL({ url: databaseUrl("postgres", PG_DIRECT_URL), max: 1 });
}

const IDENT = /^[a-z_][a-z0-9_]*$/;

/** Drops the database if it exists (ending its sessions) and creates it empty, owned by the stack's role. */
export async function recreateDatabase(name: string): Promise<void> {
  if (!IDENT.test(name)) throw new Error(`not a plain database name: ${name}`);
  const sql = admin();
  try {
    await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await sql.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await sql.close();
  }
}

/** pids of the PostgreSQL backends connected to `database` now. */
export async function backendPids(database: string): Promise<number[]> {
  const sql = admin();
  try {
    const rows: Array<{ pid: number }> = await sql`SELECT pid FROM pg_stat_activity WHERE datname = ${database}`;
    return rows.map((r) => Number(r.pid));
  } finally {
    await sql.close();
  }
}

/** The durability settings in force on the shared server, for the report. */
export async function durabilitySettings(): Promise<Record<string, string>> {
  const sql = admin();
  try {
    const rows: Array<{ name: string; setting: string }> =
      await sql`SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'server_version')`;
    return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
  } finally {
    await sql.close();
  }
}
