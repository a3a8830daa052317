import { type Config, crossProblems, settings } from "./settings.ts";

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

/** Reads and validates every setting once; throws one ConfigError naming each bad variable. */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, s] of Object.entries(settings)) {
    const raw = env[s.env];
    const source = raw === undefined || raw === "" ? s.default : raw;
    const r = s.read(source);
    if (r.ok) out[key] = r.value;
    else problems.push(`${s.env}=${JSON.stringify(source)} is not valid: expected ${r.expected}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const config = { ...(out as Config), ...overrides };
  const cross = crossProblems(config, env);
  if (cross.length > 0) throw new ConfigError(cross);
  return config;
}

/** Markdown table of all settings. */
function configTable(): string {
  const rows = Object.values(settings).map((s) => `| \`${s.env}\` | \`${s.default}\` | ${s.doc} |`);
  return ["| variable | default | meaning |", "|---|---|---|", ...rows].join("\n");
}

/** docs/configuration.md: every setting, as `bun run config:doc` writes it. */
export function configDocument(): string {
  return [
    "# Configuration",
    "",
    "Generated from `packages/platform/src/config/settings.ts` by `bun run config:doc`; CI fails when this",
    "file is stale, so edit the settings, not this page. Every setting is an environment variable, read",
    "and validated once at start: a bad value stops the process with a message naming the variable.",
    "",
    configTable(),
    "",
  ].join("\n");
}

/** For a program's entry point: the config, or a message naming every bad variable and exit 2. */
export function loadConfigOrExit(program: string): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`${program}: ${err.message}`);
    process.exit(2);
  }
}
