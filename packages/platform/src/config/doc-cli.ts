import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { configDocument } from "./load.ts";

// `bun run config:doc` writes docs/configuration.md from the settings; `--check` (CI) fails when
// the committed file differs, so the documentation cannot drift from what the code reads.
const path = join(import.meta.dir, "../../../../docs/configuration.md");
const wanted = configDocument();
if (process.argv.includes("--check")) {
  const current = (() => {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return "";
    }
  })();
  if (current !== wanted) {
    console.error("docs/configuration.md is stale: run `bun run config:doc` and commit it");
    process.exit(1);
  }
  console.log("docs/configuration.md is up to date");
} else {
  writeFileSync(path, wanted);
  console.log(`wrote ${path}`);
}
