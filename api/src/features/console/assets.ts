import { basename } from "node:path";

export interface Asset {
  body: ArrayBuffer;
  type: string;
}

export interface ConsoleBundle {
  /** The page, naming the assets by their content hash. */
  html: string;
  assets: Map<string, Asset>;
}

const ENTRY = Bun.resolveSync("@wf/console/main", import.meta.dir);

/** The console's browser code and styles, bundled in memory with Bun.build: no CDN, no build step. */
export async function buildConsole(): Promise<ConsoleBundle> {
  const out = await Bun.build({ entrypoints: [ENTRY], target: "browser", minify: true, naming: "[name]-[hash].[ext]" });
  if (!out.success) throw new AggregateError(out.logs, "bundling the console failed");
  const assets = new Map<string, Asset>();
  for (const o of out.outputs) assets.set(basename(o.path), { body: await o.arrayBuffer(), type: o.type });
  const names = [...assets.keys()];
  const css = names.filter((n) => n.endsWith(".css"));
  const js = names.find((n) => n.endsWith(".js"));
  return {
    html: `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>workflow-service console</title>
${css.map((n) => `<link rel="stylesheet" href="/ui/assets/${n}">`).join("\n")}
</head>
<body>
<div id="app"></div>
<script type="module" src="/ui/assets/${js}"></script>
</body>
</html>
`,
    assets,
  };
}
