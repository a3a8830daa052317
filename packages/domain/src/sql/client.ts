import postgres from "postgres";
import type { Config } from "../config/settings.ts";

export type Sql = postgres.Sql;

/**
 * The query pool. Through PgBouncer in transaction mode (< 1.21) named prepared statements
 * cannot be used, hence `prepare` from config (false by default). No array types are read, so
 * the type-fetch round trip at connect is skipped.
 *
 * Through PgBouncer, a statement outside a transaction must carry at least one parameter: the
 * driver then describes it first and sends nothing else on that connection meanwhile, whereas it
 * pipelines other queries behind a parameterless one, and PgBouncer < 1.21 hands the server
 * connection to another client at the first ReadyForQuery: the pipelined query hangs, or runs
 * another client's unnamed statement.
 */
export function createSql(config: Config, url = config.databaseUrl, max = config.dbPoolSize): Sql {
  return postgres(url, {
    max,
    prepare: config.dbPrepare,
    fetch_types: false,
    connect_timeout: config.dbConnectTimeoutS,
    idle_timeout: 60,
    max_lifetime: 60 * 30,
    onnotice: () => {},
    connection: { application_name: config.kafkaClientId },
  });
}

/**
 * A PostgreSQL array literal for a parameter cast in SQL (`${pgArray(ids)}::bigint[]`): with
 * `fetch_types: false` the driver does not know array types, and the items here are ids only.
 */
export const pgArray = (items: readonly string[]): string => `{${items.join(",")}}`;
