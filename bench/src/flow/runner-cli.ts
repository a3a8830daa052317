import { parseArgs } from "node:util";
import { intOption, OptionError, optionsOrExit } from "../options.ts";
import type { Target } from "../results.ts";
import { runFlow } from "./runner.ts";

// The flow runner as its own process (the load generator must not share a process with the
// servers): bun bench/src/flow/runner-cli.ts --base URL --users N --target bun --round 1 --tag T --out F
const { values: a } = parseArgs({
  options: {
    base: { type: "string" },
    users: { type: "string" },
    target: { type: "string" },
    round: { type: "string", default: "1" },
    tag: { type: "string" },
    out: { type: "string" },
    "timeout-ms": { type: "string", default: "60000" },
  },
});
if (!a.base || !a.users || !a.target || !a.tag || !a.out) {
  console.error("usage: runner-cli.ts --base URL --users N --target bun|node --round R --tag TAG --out FILE");
  process.exit(2);
}
const checked = optionsOrExit((): { target: Target; users: number; round: number; timeoutMs: number } => {
  const target = a.target;
  if (target !== "bun" && target !== "node") throw new OptionError(`--target must be bun or node, got ${JSON.stringify(target)}`);
  return {
    target,
    users: intOption("--users", a.users!, 1, 100_000),
    round: intOption("--round", a.round!, 1, 100),
    timeoutMs: intOption("--timeout-ms", a["timeout-ms"]!, 1, 3_600_000),
  };
});
const out = await runFlow({
  base: a.base,
  tag: a.tag,
  ...checked,
  progress: (line) => process.stderr.write(`${line}\n`),
});
await Bun.write(a.out, JSON.stringify(out));
