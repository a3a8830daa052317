/**
 * Re-creates the JSON schemas in this folder from package registries (run it by hand, then
 * review and commit the diff; the tests only read the committed files):
 *
 *   bun tests/infra/schemas/vendor.ts
 *
 * Needs `pip` (PyPI) and `go` (the Go module proxy, for two Go modules that embed the files).
 *
 * - compose-spec.json: the Compose Specification schema that Docker Compose v2 validates with,
 *   verbatim from the Go module github.com/compose-spec/compose-go/v2 (schema/compose-spec.json).
 * - kubernetes-<version>.json: Kubernetes object schemas ("-local-strict" flavour: unknown fields
 *   are errors, as with kubectl's server-side field validation) from the PyPI package
 *   kubernetes-validate, cut down to the kinds infra/k8s uses and the definitions they reach,
 *   with the description texts removed (only validation keywords are kept).
 * - keda-scaledobject-<version>.json: the openAPIV3Schema of KEDA's ScaledObject CRD (keda.sh/v1alpha1)
 *   from the Go module github.com/kedacore/keda/v2 (config/crd/bases/keda.sh_scaledobjects.yaml),
 *   made strict the way the API server prunes: an object schema with `properties` and neither
 *   `additionalProperties` nor `x-kubernetes-preserve-unknown-fields` rejects other fields.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const COMPOSE_GO = { module: "github.com/compose-spec/compose-go/v2", version: "v2.13.0", path: "schema/compose-spec.json" };
const KEDA = { module: "github.com/kedacore/keda/v2", version: "v2.20.2", path: "config/crd/bases/keda.sh_scaledobjects.yaml" };
const KUBERNETES_VALIDATE = { pkg: "kubernetes-validate", version: "1.37.0" };
/** The oldest Kubernetes minor still commonly run, and the newest the package knows. */
const KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"];
/** The kinds infra/k8s may use (definition names of the Kubernetes OpenAPI document). */
export const KUBERNETES_KINDS: Record<string, string> = {
  "apps/v1/Deployment": "io.k8s.api.apps.v1.Deployment",
  "v1/Service": "io.k8s.api.core.v1.Service",
  "v1/ConfigMap": "io.k8s.api.core.v1.ConfigMap",
  "v1/Secret": "io.k8s.api.core.v1.Secret",
  "v1/ServiceAccount": "io.k8s.api.core.v1.ServiceAccount",
  "v1/Namespace": "io.k8s.api.core.v1.Namespace",
  "policy/v1/PodDisruptionBudget": "io.k8s.api.policy.v1.PodDisruptionBudget",
  "autoscaling/v2/HorizontalPodAutoscaler": "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
};

const here = import.meta.dir;
const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

function run(cmd: string[], env: Record<string, string> = {}): string {
  const r = Bun.spawnSync(cmd, { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed (${r.exitCode}):\n${r.stderr}`);
  return r.stdout.toString();
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Drops string-valued `description` keywords (a property *named* description is an object). */
function stripDescriptions(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDescriptions);
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v)) if (!(k === "description" && typeof x === "string")) out[k] = stripDescriptions(x);
  return out;
}

function kubernetes(pipDir: string, version: string) {
  const file = join(pipDir, "kubernetes_validate/kubernetes-json-schema", `v${version}-local-strict`, "_definitions.json");
  const raw = readFileSync(file, "utf8");
  const defs = JSON.parse(raw).$defs as Record<string, Json>;
  const keep = new Set<string>();
  const todo = Object.values(KUBERNETES_KINDS);
  while (todo.length > 0) {
    const name = todo.pop()!;
    if (keep.has(name)) continue;
    if (!(name in defs)) throw new Error(`${file}: no definition ${name}`);
    keep.add(name);
    for (const m of JSON.stringify(defs[name]).matchAll(/"\$ref":"#\/\$defs\/([^"]+)"/g)) todo.push(m[1]!);
  }
  const out = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: `kubernetes-v${version}.json`,
    "x-source": `PyPI ${KUBERNETES_VALIDATE.pkg}==${KUBERNETES_VALIDATE.version}, v${version}-local-strict/_definitions.json (sha256 ${sha256(raw)}), cut to the kinds below; descriptions removed`,
    "x-kinds": KUBERNETES_KINDS,
    $defs: Object.fromEntries([...keep].sort().map((k) => [k, stripDescriptions(defs[k]!)])),
  };
  return { out, source: `${file.slice(pipDir.length + 1)}`, sourceSha: sha256(raw) };
}

/** Structural CRD schema -> JSON schema that rejects the fields the API server would prune. */
function strictCrd(v: Json): Json {
  if (Array.isArray(v)) return v.map(strictCrd);
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === "description" && typeof x === "string") continue;
    out[k] = k === "properties" && x && typeof x === "object" && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).map(([p, s]) => [p, strictCrd(s)]))
      : strictCrd(x);
  }
  if (out.properties && !("additionalProperties" in out) && out["x-kubernetes-preserve-unknown-fields"] !== true) out.additionalProperties = false;
  return out;
}

function keda(dir: string) {
  const raw = readFileSync(join(dir, KEDA.path), "utf8");
  const crd = Bun.YAML.parse(raw) as any;
  const v = crd.spec.versions.find((x: any) => x.name === "v1alpha1");
  if (!v) throw new Error("KEDA CRD has no v1alpha1 version");
  return {
    out: {
      $schema: "http://json-schema.org/draft-07/schema#",
      $id: `keda-scaledobject-${KEDA.version}.json`,
      "x-source": `Go module ${KEDA.module}@${KEDA.version}, ${KEDA.path} (sha256 ${sha256(raw)}): spec.versions[v1alpha1].schema.openAPIV3Schema, strict, descriptions removed`,
      ...(strictCrd(v.schema.openAPIV3Schema) as object),
    },
    sourceSha: sha256(raw),
  };
}

if (import.meta.main) {
  const tmp = mkdtempSync(join(tmpdir(), "wf-schemas-"));
  try {
    const pipDir = join(tmp, "pip");
    run(["pip", "install", "--quiet", "--no-deps", "--no-compile", "--target", pipDir, `${KUBERNETES_VALIDATE.pkg}==${KUBERNETES_VALIDATE.version}`]);
    const gomod = join(tmp, "gomod");
    const goEnv = { GOMODCACHE: gomod, GOFLAGS: "-modcacherw", GO111MODULE: "on" };
    const dirOf = (m: { module: string; version: string }) =>
      JSON.parse(run(["go", "mod", "download", "-json", `${m.module}@${m.version}`], goEnv)).Dir as string;

    const lines = [
      "# Vendored JSON schemas",
      "",
      "Written by `bun tests/infra/schemas/vendor.ts` (do not edit by hand); read by `tests/infra/manifests.test.ts`.",
      "",
      "| file | sha256 | from |",
      "|---|---|---|",
    ];
    const write = (name: string, text: string, from: string) => {
      writeFileSync(join(here, name), text);
      lines.push(`| \`${name}\` | \`${sha256(text).slice(0, 16)}…\` | ${from} |`);
      console.log(`${name}: ${text.length} bytes`);
    };

    const composeRaw = readFileSync(join(dirOf(COMPOSE_GO), COMPOSE_GO.path), "utf8");
    write("compose-spec.json", composeRaw, `Go module \`${COMPOSE_GO.module}@${COMPOSE_GO.version}\`, \`${COMPOSE_GO.path}\`, verbatim (the schema Docker Compose v2 validates with)`);

    for (const version of KUBERNETES_VERSIONS) {
      const k = kubernetes(pipDir, version);
      write(`kubernetes-v${version}.json`, `${JSON.stringify(k.out, null, 1)}\n`, `PyPI \`${KUBERNETES_VALIDATE.pkg}==${KUBERNETES_VALIDATE.version}\`, \`${k.source}\` (sha256 \`${k.sourceSha.slice(0, 16)}…\`), cut to ${Object.keys(KUBERNETES_KINDS).length} kinds and the definitions they use; descriptions removed`);
    }

    const kd = keda(dirOf(KEDA));
    write(`keda-scaledobject-${KEDA.version}.json`, `${JSON.stringify(kd.out, null, 1)}\n`, `Go module \`${KEDA.module}@${KEDA.version}\`, \`${KEDA.path}\` (sha256 \`${kd.sourceSha.slice(0, 16)}…\`): the v1alpha1 openAPIV3Schema, unknown fields rejected as the API server prunes them; descriptions removed`);

    writeFileSync(join(here, "SOURCES.md"), `${lines.join("\n")}\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
