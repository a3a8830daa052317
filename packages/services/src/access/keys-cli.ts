import { DomainError } from "@wf/core/errors";
import { parseScopes, SCOPES, type Scope } from "@wf/core/scopes";
import { loadConfigOrExit } from "@wf/platform/config";
import { createSql, migrate } from "@wf/platform/sql";
import { KeyStore } from "./key-store.ts";

const USAGE = `usage: bun run keys create <name> [--scopes <scope>,…]
                                print a new API key (shown once; only its SHA-256 is stored)
                                scopes: ${SCOPES.join(", ")}; without --scopes: admin (everything)
       bun run keys revoke <name>   refuse that key from now on (within API_KEYS_REFRESH_MS)
       bun run keys list            names, scopes, creation and revocation times (never the keys)`;

const usage = (problem?: string): never => {
  if (problem) console.error(`keys: ${problem}`);
  console.error(USAGE);
  process.exit(2);
};

/** The arguments: a command, its name, and for create an optional `--scopes a,b` (or `--scopes=a,b`). */
function parseArgs(argv: string[]): { command: string; name?: string; scopes?: Scope[] } {
  const rest: string[] = [];
  let scopes: Scope[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--scopes" || arg.startsWith("--scopes=")) {
      const list = arg === "--scopes" ? argv[++i] : arg.slice("--scopes=".length);
      if (list === undefined) usage("--scopes needs a comma-separated list");
      try {
        scopes = parseScopes(list!);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        usage(err.message);
      }
    } else if (arg.startsWith("-")) usage(`unknown option ${arg}`);
    else rest.push(arg);
  }
  const [command, name, extra] = rest;
  if (!command || (command !== "list" && !name) || extra !== undefined) usage();
  if (scopes && command !== "create") usage("--scopes is for create only");
  return { command: command!, name, scopes };
}

const { command, name, scopes } = parseArgs(process.argv.slice(2));
const config = loadConfigOrExit("keys");
const sql = createSql(config, config.databaseDirectUrl, 1);
const store = new KeyStore(sql);
try {
  await migrate(sql);
  if (command === "create") {
    const k = await store.create(name!, scopes);
    console.log(k.key);
    console.error(
      `created API key ${JSON.stringify(k.name)} (${k.id}) with scopes ${k.scopes.join(",")}; send it as: authorization: Bearer <key>`,
    );
  } else if (command === "revoke") {
    const k = await store.revoke(name!);
    console.log(`revoked ${JSON.stringify(k.name)} at ${k.revoked_at?.toISOString()}`);
  } else if (command === "list") {
    for (const k of await store.list())
      console.log(
        `${k.name}\t${k.id}\t${k.scopes.join(",")}\tcreated ${k.created_at.toISOString()}\t${k.revoked_at ? `revoked ${k.revoked_at.toISOString()}` : "active"}`,
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
