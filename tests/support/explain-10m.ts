import type { Sql } from "@wf/platform/sql";

/**
 * A runs table of 10 million rows in a schema of its own (`explain_10m`), to read the plans of the
 * store's queries at that size without touching `public.runs`, which other tests and the bench
 * use. Seeded once and kept (CI pays once): a marker row says it is complete. Unlogged: plans are
 * those of a logged table, without writing 2 GB of WAL (a crash empties it, marker included, and
 * the next run seeds again). Columns and indexes public.runs gained since are copied on every call
 * (those of every migration the database has), so the plans are those of the schema as it is now.
 *
 * Distributions: a year of runs, oldest first; 1,000 workflows, skewed (the busiest has a tenth of
 * all runs, the quietest a few thousand); 95% completed, 3.5% failed, 1% cancelled, and the
 * pending and running runs (about 0.1% each) among the most recent 2% only; 15% of runs started by
 * one of 300 schedules; 5% child runs of 100,000 parents.
 */
export const SCHEMA = "explain_10m";
export const ROWS = 10_000_000;
const SEED_VERSION = 1;
const LOCK_KEY = 727_013;

/** Ids of the seeded data's workflows, schedules and parents (n from 0). */
export const seededId = {
  workflow: (n: number) => `00000000-0000-7000-8000-${n.toString(16).padStart(12, "0")}`,
  schedule: (n: number) => `00000000-0000-7000-a000-${n.toString(16).padStart(12, "0")}`,
  parent: (n: number) => `00000000-0000-7000-b000-${n.toString(16).padStart(12, "0")}`,
};

export interface Seeded {
  /** Seconds the seeding took: 0 when it was already there; index copies included. */
  seconds: number;
  rows: number;
}

/** `sql` must be a direct connection to PostgreSQL (a session advisory lock serializes seeders). */
export async function ensureSeeded(sql: Sql, log: (line: string) => void = () => {}): Promise<Seeded> {
  const t0 = performance.now();
  const lock = await sql.reserve();
  try {
    await lock`SELECT pg_advisory_lock(${LOCK_KEY})`;
    await lock`CREATE SCHEMA IF NOT EXISTS ${lock(SCHEMA)}`;
    await lock`CREATE UNLOGGED TABLE IF NOT EXISTS ${lock(SCHEMA)}.seed (version int NOT NULL, rows bigint NOT NULL)`;
    const [marker] = await lock<{ version: number; rows: string }[]>`SELECT version, rows FROM ${lock(SCHEMA)}.seed`;
    let changed = false;
    if (marker?.version !== SEED_VERSION) {
      log(`seeding ${SCHEMA}.runs with ${ROWS} rows`);
      await lock`DROP TABLE IF EXISTS ${lock(SCHEMA)}.runs`;
      await lock`DELETE FROM ${lock(SCHEMA)}.seed`;
      await lock`CREATE UNLOGGED TABLE ${lock(SCHEMA)}.runs (LIKE public.runs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`;
      await lock.unsafe(`
        INSERT INTO ${SCHEMA}.runs (id, workflow_id, workflow_version, definition, status, input, steps, created_at, updated_at,
                                    started_at, finished_at, topic, schedule_id, parent_run_id)
        SELECT (lpad(to_hex((extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7' || lpad(to_hex(g % 4096), 3, '0') || '8'
                || lpad(to_hex(g), 15, '0'))::uuid,
               ('00000000-0000-7000-8000-' || lpad(to_hex(floor(1000 * r_wf ^ 3)::int), 12, '0'))::uuid,
               1, '[]'::jsonb, status, '{}'::jsonb, '[]'::jsonb, ts, ts,
               CASE WHEN status <> 'pending' THEN ts END, CASE WHEN status NOT IN ('pending', 'running') THEN ts END,
               'explain',
               CASE WHEN r_sched < 0.15 THEN ('00000000-0000-7000-a000-' || lpad(to_hex(floor(r_sched / 0.15 * 300)::int), 12, '0'))::uuid END,
               CASE WHEN r_parent < 0.05 THEN ('00000000-0000-7000-b000-' || lpad(to_hex(floor(r_parent / 0.05 * 100000)::int), 12, '0'))::uuid END
        FROM (
          SELECT g, ts, r_wf, r_sched, r_parent,
                 CASE WHEN g > ${ROWS * 0.98} AND r_status < 0.05 THEN 'pending'
                      WHEN g > ${ROWS * 0.98} AND r_status < 0.10 THEN 'running'
                      WHEN r_status < 0.95 THEN 'completed'
                      WHEN r_status < 0.985 THEN 'failed'
                      ELSE 'cancelled' END AS status
          FROM (
            SELECT g, timestamptz '2026-01-01 00:00:00+00' + g * interval '3153600 microseconds' AS ts,
                   random() AS r_wf, random() AS r_status, random() AS r_sched, random() AS r_parent
            FROM generate_series(1, ${ROWS}) AS g
          ) AS raw
        ) AS s`);
      await lock`INSERT INTO ${lock(SCHEMA)}.seed (version, rows) VALUES (${SEED_VERSION}, ${ROWS})`;
      changed = true;
    }
    changed = (await syncColumns(lock, log)) || changed;
    changed = (await syncIndexes(lock, log)) || changed;
    if (changed) {
      log(`analyzing ${SCHEMA}.runs`);
      await lock`ANALYZE ${lock(SCHEMA)}.runs`;
    }
    return { seconds: changed ? (performance.now() - t0) / 1000 : 0, rows: ROWS };
  } finally {
    await lock`SELECT pg_advisory_unlock(${LOCK_KEY})`.catch(() => undefined);
    lock.release();
  }
}

/** Adds the columns public.runs has gained since the seeding (as the migrations add them: instantly, nullable or with a default). */
async function syncColumns(sql: Sql, log: (line: string) => void): Promise<boolean> {
  const missing = await sql<{ name: string; type: string; def: string | null }[]>`
    SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, pg_get_expr(d.adbin, d.adrelid) AS def
    FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = 'public.runs'::regclass AND a.attnum > 0 AND NOT a.attisdropped
      AND a.attname NOT IN (SELECT attname FROM pg_attribute WHERE attrelid = ${`${SCHEMA}.runs`}::regclass AND attnum > 0 AND NOT attisdropped)
    ORDER BY a.attnum`;
  for (const c of missing) {
    log(`adding column ${c.name}`);
    await sql.unsafe(`ALTER TABLE ${SCHEMA}.runs ADD COLUMN "${c.name}" ${c.type}${c.def ? ` DEFAULT ${c.def}` : ""}`);
  }
  return missing.length > 0;
}

/** Makes the seeded table's indexes those of public.runs (by name and definition); true when any changed. */
async function syncIndexes(sql: Sql, log: (line: string) => void): Promise<boolean> {
  const defs = async (schema: string) =>
    new Map(
      (
        await sql<{ indexname: string; indexdef: string }[]>`
          SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = ${schema} AND tablename = 'runs'`
      ).map((r) => [r.indexname, r.indexdef.replace(` ON ${schema}.runs `, " ON runs ")]),
    );
  const [want, have] = [await defs("public"), await defs(SCHEMA)];
  let changed = false;
  for (const [name, def] of have)
    if (want.get(name) !== def) {
      log(`dropping index ${name}`);
      await sql.unsafe(`DROP INDEX ${SCHEMA}.${name}`);
      have.delete(name);
      changed = true;
    }
  for (const [name, def] of want)
    if (!have.has(name)) {
      log(`creating index ${name}`);
      await sql.unsafe(def.replace(" ON runs ", ` ON ${SCHEMA}.runs `));
      changed = true;
    }
  return changed;
}
