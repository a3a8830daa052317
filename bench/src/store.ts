import { createKafka, ensureTopic } from "@wf/platform/bus";
import type { Config } from "@wf/platform/config";
import { createLogger } from "@wf/platform/observability";
import { createSql, migrate, type Sql } from "@wf/platform/sql";
import { OptionError } from "./options.ts";

/** Where the bench keeps its rows and messages, apart from the service's own. */
export interface BenchStore {
  database: string;
  /** The URL the servers and workers query through (PgBouncer, or PostgreSQL itself with --topology direct). */
  url: string;
  /** PostgreSQL itself: migrations and the audit. */
  directUrl: string;
  runsTopic: string;
  deadLetterTopic: string;
  groupId: string;
  /** The variables that point a server or a worker at this store. */
  env: Record<string, string>;
}

/** `url` with its database (path) replaced. */
export const withDatabase = (url: string, database: string): string => {
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
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(database))
    throw new OptionError(`BENCH_DATABASE must be a plain lower-case PostgreSQL name, got ${JSON.stringify(database)}`);
  // The bench drops and re-creates it: never the service's own.
  if (database === serviceDb)
    throw new OptionError(`BENCH_DATABASE must not be the service's database (${serviceDb}): the bench empties it`);
  const directUrl = withDatabase(config.databaseDirectUrl, database);
  const url = topology === "direct" ? directUrl : withDatabase(config.databaseUrl, database);
  // Kafka warns of topic names that mix "." and "_" (they collide in its metric names).
  const suffix = database.replaceAll("_", "-");
  const runsTopic = `${config.runsTopic}-${suffix}`;
  const deadLetterTopic = `${runsTopic}-dlq`;
  const groupId = `${config.workerGroupId}-${suffix}`;
  return {
    database,
    url,
    directUrl,
    runsTopic,
    deadLetterTopic,
    groupId,
    env: {
      DATABASE_URL: url,
      DATABASE_DIRECT_URL: directUrl,
      KAFKA_RUNS_TOPIC: runsTopic,
      KAFKA_DEAD_LETTER_TOPIC: deadLetterTopic,
      WORKER_GROUP_ID: groupId,
      // The bench's database on the replica too (DATABASE_READ_URL names the service's).
      ...(config.databaseReadUrl !== "" && { DATABASE_READ_URL: withDatabase(config.databaseReadUrl, database) }),
    },
  };
}

/**
 * Empties the bench's store before a bench: the database dropped, created and migrated; the runs
 * and dead-letter topics and the consumer group deleted and the topics created again. The topic
 * goes with the database: messages an earlier bench's workers had not committed would otherwise be
 * delivered again to runs the new database does not have, and dead-lettered (2,082 at the start of
 * one 1k bench).
 */
export async function recreateStore(config: Config, store: BenchStore): Promise<void> {
  await recreateDatabase(config, store);
  await recreateTopics(config, store);
}

async function recreateDatabase(config: Config, store: BenchStore): Promise<void> {
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

async function recreateTopics(config: Config, store: BenchStore): Promise<void> {
  const log = createLogger("warn", { component: "bench-store" });
  const admin = createKafka(config, log, "bench-store").admin();
  const { runsTopic, deadLetterTopic, groupId } = store;
  await admin.connect();
  try {
    // The group first: its offsets would point past the end of the new topic.
    if ((await admin.listGroups()).groups.some((g) => g.groupId === groupId)) await admin.deleteGroups([groupId]);
    const old = (await admin.listTopics()).filter((t) => t === runsTopic || t === deadLetterTopic);
    if (old.length > 0) await admin.deleteTopics({ topics: old, timeout: 30_000 });
    // Deletion completes in the background: until it has, the old topic may still be listed (and
    // would be taken for the new one), and creating the same name is refused.
    const deadline = Date.now() + 60_000;
    while ((await admin.listTopics()).some((t) => old.includes(t))) {
      if (Date.now() > deadline) throw new Error(`Kafka did not finish deleting ${old.join(", ")} within 60 s`);
      await Bun.sleep(250);
    }
    for (;;) {
      try {
        await ensureTopic(admin, runsTopic, config.runsTopicPartitions, log);
        await ensureTopic(admin, deadLetterTopic, 1, log);
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await Bun.sleep(250);
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Vacuums and analyzes the bench's tables, as pgbench does before it measures. The warm-up flows
 * leave tens of thousands of dead and new rows behind, and autovacuum of tables of hundreds of
 * thousands of rows then started inside whichever measured flow came next: in one 10k bench the
 * rest of the machine (PostgreSQL, PgBouncer, Redis, Kafka, the kernel's threads) used 1.5 to 3.4
 * CPU-s per flow from round to round. Done before every measured flow, of both targets alike.
 * Returns the tables vacuumed and the seconds it took.
 */
export async function vacuumStore(sql: Sql): Promise<{ tables: string[]; seconds: number }> {
  const t0 = performance.now();
  // The tables the bench's user owns: VACUUM of the whole database would warn about every
  // system catalog it may not vacuum.
  const rows = await sql<{ name: string }[]>`
    SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user ORDER BY tablename`;
  const tables = rows.map((r) => r.name);
  if (tables.length > 0) await sql.unsafe(`VACUUM (ANALYZE) ${tables.map((t) => `"${t}"`).join(", ")}`);
  return { tables, seconds: (performance.now() - t0) / 1000 };
}
