import { loadConfig } from "../config/load.ts";
import { createSql } from "./client.ts";
import { migrate } from "./migrate.ts";

const config = loadConfig();
const sql = createSql(config, config.databaseDirectUrl, 1);
try {
  const applied = await migrate(sql, (l) => console.log(`[migrate] ${l}`));
  console.log(`[migrate] ${applied.length === 0 ? "schema is up to date" : `applied ${applied.length} migration(s)`}`);
} finally {
  await sql.end();
}
