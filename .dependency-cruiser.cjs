// `bun run deps`: the package boundaries, checked in CI. Paths are the real files that imports of
// the workspace packages (`@wf/core/...`) resolve to.
const IO_MODULES = "^(node:)?(fs|net|dns|http|https|http2|child_process|dgram|tls|cluster|worker_threads)(/|$)";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "An import cycle makes modules load half-initialised and hides which one is the lower layer.",
      from: {},
      to: { circular: true },
    },
    {
      name: "core-imports-no-platform",
      severity: "error",
      comment: "The core does no I/O: it may not import the adapters, the services or any process.",
      from: { path: "^packages/core/" },
      to: { path: "^(packages/(platform|services|contract|http)|api|worker|reference|bench|tests)/" },
    },
    {
      name: "core-does-no-io",
      severity: "error",
      comment:
        "No drivers, servers, file or network access in the core; `uuid`, crypto, the CEL interpreter and croner (cron expressions) are computation, fast-check only tests.",
      from: { path: "^packages/core/" },
      to: {
        dependencyTypes: ["npm", "npm-dev", "npm-optional", "npm-peer", "npm-no-pkg", "npm-unknown", "core"],
        pathNot: [
          "(^|/)node_modules/uuid/",
          "(^|/)node_modules/@marcbachmann/cel-js/",
          "(^|/)node_modules/croner/",
          "(^|/)node_modules/fast-check/",
          "^(node:)?crypto$",
          "^bun:test$",
        ],
      },
    },
    {
      name: "core-node-io",
      severity: "error",
      comment: "Node's I/O modules stay out of the core.",
      from: { path: "^packages/core/" },
      to: { dependencyTypes: ["core"], path: IO_MODULES },
    },
    {
      name: "platform-imports-no-application",
      severity: "error",
      comment: "Adapters know the core, never the services or the processes built on them.",
      from: { path: "^packages/platform/" },
      to: { path: "^(packages/(services|contract|http)|api|worker|reference|bench|tests)/" },
    },
    {
      name: "services-import-no-process",
      severity: "error",
      comment: "The services are composed by the processes, not the other way round.",
      from: { path: "^packages/services/" },
      to: { path: "^(packages/(contract|http)|api|worker|reference|bench|tests)/" },
    },
    {
      name: "contract-is-schemas-only",
      severity: "error",
      comment: "The contract's schemas build on the core's rules and constants only.",
      from: { path: "^packages/contract/" },
      to: { path: "^(packages/(platform|services|http)|api|worker|reference|bench|tests)/" },
    },
    {
      name: "worker-builds-no-api-service",
      severity: "error",
      comment: "A worker executes runs: the API's services, loops and HTTP code are not its to build.",
      from: { path: "^worker/" },
      to: {
        path: [
          "^api/",
          "^packages/services/src/(workflows|access|runs/service|schedules/service|secrets/service|api-services)",
          "^packages/(contract|http)/",
          "^reference/",
        ],
      },
    },
    {
      name: "worker-loads-no-api-service",
      severity: "error",
      comment: "Not even through an index: what a worker process loads, directly or not, holds no API service.",
      from: { path: "^worker/src/(main|process)\\.ts$" },
      to: {
        path: "^(api/|packages/(contract|http)/|packages/services/src/(workflows/|access/|api-services|(runs|schedules)/(service|store|index)\\.ts|secrets/(service|index)\\.ts))",
        reachable: true,
      },
    },
    {
      name: "api-imports-no-worker",
      severity: "error",
      comment: "The API and the worker are separate processes; the API does not execute runs.",
      from: { path: "^(api|reference)/" },
      to: { path: ["^worker/", "^packages/services/src/execution/"] },
    },
    {
      name: "console-is-browser-code",
      comment:
        "The console runs in the browser: no Node module, and of the server only its type (the client's `import type` of the API), erased when bundled.",
      severity: "error",
      from: { path: "^packages/(console|client)/" },
      to: {
        path: "^(api|worker|reference|packages/(core|platform|services|contract|http))/",
        dependencyTypesNot: ["type-only"],
      },
    },
    {
      name: "console-does-no-node-io",
      severity: "error",
      comment: "Node's modules do not exist in the browser.",
      from: { path: "^packages/(console|client)/" },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "not-to-tests",
      severity: "error",
      comment: "Product code does not import test code.",
      from: { path: "^(packages|api|worker|reference)/", pathNot: "\\.test\\.ts$" },
      to: { path: ["\\.test\\.ts$", "^tests/"] },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "An import that resolves to nothing fails at run time.",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // node_modules stay in the graph as leaves (not followed), so rules on npm imports can fire.
    exclude: { path: "(^|/)dist/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "bun", "node", "default"],
      extensions: [".ts", ".js", ".json"],
      mainFields: ["module", "main", "types"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
