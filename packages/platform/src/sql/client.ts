import postgres from "postgres";
import type { Config } from "../config/settings.ts";

export type Sql = postgres.Sql;
/** The handle of a transaction (sql.begin): statements on it run inside it. */
export type TxSql = postgres.TransactionSql;

/**
 * The query pool. Named prepared statements by default (`DB_PREPARE`): PgBouncer >= 1.21 keeps
 * them in transaction mode (`max_prepared_statements`), and infra/stack builds 1.24 for that
 * reason; with `prepare: false` every query is parsed and planned again and takes two round
 * trips. No array types are read, so the type-fetch round trip at connect is skipped.
 *
 * A statement outside a transaction carries at least one parameter: with `prepare: false` the
 * driver pipelines other queries behind a parameterless one, and PgBouncer < 1.21 hands the
 * server connection to another client at the first ReadyForQuery: the pipelined query hangs, or
 * runs another client's unnamed statement. Kept for those who run an older PgBouncer.
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
