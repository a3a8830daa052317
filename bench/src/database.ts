import type { Config } from "@wf/domain";
import { createSql } from "@wf/domain/sql/client";
import { migrate } from "@wf/domain/sql/migrate";
import { OptionError } from "./options.ts";

/** Where the bench keeps its rows and messages, apart from the service's own. */
export interface BenchStore {
  database: string;
  /** The URL the servers and workers query through (PgBouncer, or PostgreSQL itself with --topology direct). */
  url: string;
  /** PostgreSQL itself: migrations and the audit. */
  directUrl: string;
  /** The variables that point a server or a worker at this store. */
  env: Record<string, string>;
}

const withDatabase = (url: string, database: string): string => {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
};

/**
 * The bench's own database, runs topic and consumer group. Each bench starts from an empty
 * database: measured against the service's database, every run inherited the rows of all earlier
 * ones (3.7 million workflows after a day of benches), and autovacuum of gigabyte tables then
 * landed in random rounds. Its own topic and group keep a `bun run worker` of the developer's
 * out of the bench's runs (and the bench's workers out of theirs).
 */
export function benchStore(config: Config, name: string | undefined, topology: "pgbouncer" | "direct"): BenchStore {
  const serviceDb = new URL(config.databaseDirectUrl).pathname.slice(1);
  const database = name ?? `${serviceDb}_bench`;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(database)) throw new OptionError(`BENCH_DATABASE must be a plain lower-case PostgreSQL name, got ${JSON.stringify(database)}`);
  // The bench drops and re-creates it: never the service's own.
  if (database === serviceDb) throw new OptionError(`BENCH_DATABASE must not be the service's database (${serviceDb}): the bench empties it`);
  const directUrl = withDatabase(config.databaseDirectUrl, database);
  const url = topology === "direct" ? directUrl : withDatabase(config.databaseUrl, database);
  return {
    database,
    url,
    directUrl,
    env: {
      DATABASE_URL: url,
      DATABASE_DIRECT_URL: directUrl,
      // Kafka warns of topic names that mix "." and "_" (they collide in its metric names).
      KAFKA_RUNS_TOPIC: `${config.runsTopic}-${database.replaceAll("_", "-")}`,
      KAFKA_DEAD_LETTER_TOPIC: `${config.runsTopic}-${database.replaceAll("_", "-")}-dlq`,
      WORKER_GROUP_ID: `${config.workerGroupId}-${database.replaceAll("_", "-")}`,
    },
  };
}

/** Drops the bench's database when it exists (an earlier bench's rows), creates it empty and migrates it. */
export async function recreateDatabase(config: Config, store: BenchStore): Promise<void> {
  const admin = createSql(config, config.databaseDirectUrl, 1);
  try {
    // FORCE: PgBouncer may still hold server connections into it from the last bench.
    await admin.unsafe(`DROP DATABASE IF EXISTS "${store.database}" WITH (FORCE)`);
    await admin.unsafe(`CREATE DATABASE "${store.database}"`);
  } finally {
    await admin.end();
  }
  const sql = createSql(config, store.directUrl, 1);
  try {
    await migrate(sql);
  } finally {
    await sql.end();
  }
}
