import { DomainError } from "@wf/core/errors";
import { loadConfigOrExit } from "@wf/platform/config";
import { createSql, migrate } from "@wf/platform/sql";
import { KeyStore } from "./key-store.ts";

const USAGE = `usage: bun run keys create <name>   print a new API key (shown once; only its SHA-256 is stored)
       bun run keys revoke <name>   refuse that key from now on (within API_KEYS_REFRESH_MS)
       bun run keys list            names, creation and revocation times (never the keys)`;

const [command, name] = process.argv.slice(2);
if (!command || (command !== "list" && !name)) {
  console.error(USAGE);
  process.exit(2);
}
const config = loadConfigOrExit("keys");
const sql = createSql(config, config.databaseDirectUrl, 1);
const store = new KeyStore(sql);
try {
  await migrate(sql);
  if (command === "create") {
    const k = await store.create(name!);
    console.log(k.key);
    console.error(`created API key ${JSON.stringify(k.name)} (${k.id}); send it as: authorization: Bearer <key>`);
  } else if (command === "revoke") {
    const k = await store.revoke(name!);
    console.log(`revoked ${JSON.stringify(k.name)} at ${k.revoked_at?.toISOString()}`);
  } else if (command === "list") {
    for (const k of await store.list())
      console.log(
        `${k.name}\t${k.id}\tcreated ${k.created_at.toISOString()}\t${k.revoked_at ? `revoked ${k.revoked_at.toISOString()}` : "active"}`,
      );
  } else {
    console.error(USAGE);
    process.exitCode = 2;
  }
} catch (err) {
  if (!(err instanceof DomainError)) throw err;
  console.error(`keys: ${err.message}`);
  process.exitCode = 1;
} finally {
  await sql.end();
}
