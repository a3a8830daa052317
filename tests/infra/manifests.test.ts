/**
 * The deployment files, checked without Docker or a cluster:
 * - docker-compose.yml against the Compose Specification schema (compose-go v2.13.0, the one
 *   Docker Compose v2 validates with), then what a schema cannot see: health checks, dependencies,
 *   the app settings (through the service's own config loader), nginx upstreams, Prometheus targets;
 * - infra/k8s against the Kubernetes schemas of v1.30 and v1.37 (strict: unknown fields fail) and
 *   KEDA v2.20.2's ScaledObject CRD schema, then selectors, references and settings;
 * - nginx: `nginx -t` on the config infra/stack renders and on the one the compose container
 *   renders, and nginx started by `infra/stack up nginx` in a scratch STACK_DIR in front of stub
 *   upstreams (least_conn spread, x-request-id, which requests are retried);
 * - the Grafana dashboard and Prometheus config against the metrics the service exports;
 * - the Dockerfile's app stage, copied and installed as Docker would, resolving every import;
 * - the sizing invariants of infra/sizing.md on the defaults of infra/stack, compose and k8s.
 * Schemas: tests/infra/schemas (SOURCES.md says where each comes from).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig, settings } from "@wf/platform/config";
import { createMetrics, registerApiMetrics, registerReplicaMetrics, registerWorkerMetrics } from "@wf/platform/observability";
import { Breaker } from "@wf/platform/resilience";
import {
  ajv2020,
  ajvDraft7,
  errorsText,
  interpolate,
  loadSchema,
  promqlLabels,
  promqlMetricNames,
  ROOT,
  read,
  sh,
  yamlDocs,
} from "./lib.ts";

const SETTING_NAMES = new Set(Object.values(settings).map((s) => s.env));
/** Environment variables the app does not read through its config, but Bun does. */
const RUNTIME_ENV = new Set(["BUN_CONFIG_MAX_HTTP_REQUESTS", "NODE_ENV"]);
/** Read by the Node reference (bun run api:node), as bench/src/main.ts passes them. */
const NODE_REFERENCE_ENV = new Set(["NODE_PORT", "NODE_API_REPLICAS"]);

/** loadConfig's verdict on an environment: null when valid, else the variables it names. */
function configProblems(env: Record<string, string>): string[] | null {
  try {
    loadConfig(env);
    return null;
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

const stackDefault = (name: string): string => {
  const m = read("infra/stack").match(new RegExp(`^${name}=\\$\\{${name}:-([^}]*)\\}`, "m"));
  if (!m) throw new Error(`infra/stack sets no default for ${name}`);
  return m[1]!;
};
const stackInt = (name: string) => Number(stackDefault(name));

// ------------------------------------------------------------------------------------------ compose
describe("docker-compose.yml", () => {
  const raw = yamlDocs("docker-compose.yml")[0];
  const problems: string[] = [];
  const compose = interpolate(raw, problems) as any;
  const services: Record<string, any> = compose.services;
  const named = (prefix: string) =>
    Object.keys(services)
      .filter((n) => new RegExp(`^${prefix}-\\d+$`).test(n))
      .sort();

  // biome-ignore lint/suspicious/noTemplateCurlyInString: the test names the compose file's ${VAR} syntax
  test("every ${VAR} has a default and no bare $ slips into a command", () => {
    expect(problems).toEqual([]);
  });

  test("validates against the Compose Specification schema (compose-go v2.13.0)", () => {
    const validate = ajv2020().compile(loadSchema("compose-spec.json"));
    const ok = validate(compose);
    expect(errorsText(validate.errors)).toBe("");
    expect(ok).toBe(true);
  });

  test("the schema check can fail: a misspelt key and a bad condition are rejected", () => {
    const validate = ajv2020().compile(loadSchema("compose-spec.json"));
    const broken = structuredClone(compose);
    broken.services.redis.helthcheck = broken.services.redis.healthcheck;
    broken.services.pgbouncer.depends_on.postgres.condition = "healthy";
    expect(validate(broken)).toBe(false);
    const text = errorsText(validate.errors);
    expect(text).toContain("helthcheck");
    expect(text).toContain("service_healthy");
  });

  test("the whole stack: infra, API x3, workers x3, Node reference x3, nginx, Prometheus, Grafana", () => {
    for (const s of ["postgres", "pgbouncer", "redis", "kafka", "nginx", "prometheus", "grafana"]) expect(services[s]).toBeDefined();
    expect(named("api")).toEqual(["api-1", "api-2", "api-3"]);
    expect(named("worker")).toEqual(["worker-1", "worker-2", "worker-3"]);
    expect(named("node")).toEqual(["node-1", "node-2", "node-3"]);
    expect(services.kafka.image).toMatch(/^apache\/kafka:/);
    expect(services.kafka.environment.KAFKA_PROCESS_ROLES).toBe("broker,controller"); // KRaft
    expect(services.redis.command.join(" ")).toContain("--maxmemory 256mb --maxmemory-policy allkeys-lru");
  });

  test("one process per container, with the commands of package.json", () => {
    for (const n of named("api")) {
      expect(services[n].command).toEqual(["bun", "run", "api"]);
      expect(services[n].environment.API_REPLICAS).toBe("1");
    }
    for (const n of named("worker")) {
      expect(services[n].command).toEqual(["bun", "run", "worker"]);
      expect(services[n].environment.WORKER_REPLICAS).toBe("1");
    }
    for (const n of named("node")) {
      expect(services[n].command).toEqual(["node", "reference/node/dist/main.js"]);
      expect(services[n].environment.NODE_API_REPLICAS).toBe("1");
      expect(services[n].profiles).toEqual(["node-reference"]);
    }
    const scripts = JSON.parse(read("package.json")).scripts;
    expect(scripts.api).toBeDefined();
    expect(scripts.worker).toBeDefined();
  });

  test("every service has a health check, and every dependency waits for health", () => {
    for (const [name, s] of Object.entries(services)) {
      expect({ name, test: s.healthcheck?.test?.length > 0 }).toEqual({ name, test: true });
      for (const [dep, spec] of Object.entries<any>(s.depends_on ?? {})) {
        expect({ name, dep, exists: dep in services }).toEqual({ name, dep, exists: true });
        expect({ name, dep, condition: spec.condition }).toEqual({ name, dep, condition: "service_healthy" });
      }
    }
    for (const n of [...named("api"), ...named("worker"), ...named("node")])
      expect(Object.keys(services[n].depends_on).sort()).toEqual(["kafka", "pgbouncer", "postgres", "redis"]);
  });

  // In a PID namespace of its own, as in the container: only the processes started here are seen.
  test.skipIf(process.getuid?.() !== 0)("the worker health check sees a worker process, and not itself", () => {
    const [kind, check] = services["worker-1"].healthcheck.test;
    expect(kind).toBe("CMD-SHELL");
    const fake = join(mkdtempSync(join(tmpdir(), "wf-worker-hc-")), "app/worker/src/process.ts");
    mkdirSync(join(fake, ".."), { recursive: true });
    writeFileSync(fake, "await Bun.sleep(5000);\n");
    try {
      const alone = sh(["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", check]);
      expect({ alone: alone.code }).toEqual({ alone: 1 });
      // The fake worker's path reaches the namespace through the environment, which /proc/*/cmdline does not show.
      const withWorker = sh(
        ["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", 'bun "$FAKE" & sleep 1; sh -c "$CHECK"; rc=$?; kill $!; exit $rc'],
        { FAKE: fake, CHECK: check },
      );
      expect({ withWorker: withWorker.code, out: withWorker.out }).toEqual({ withWorker: 0, out: "" });
    } finally {
      rmSync(join(fake, "../../../.."), { recursive: true, force: true });
    }
  });

  test("the app containers' settings pass the service's own config validation", () => {
    for (const n of [...named("api"), ...named("worker"), ...named("node")]) {
      const env = services[n].environment as Record<string, string>;
      const unknown = Object.keys(env).filter((k) => !SETTING_NAMES.has(k) && !RUNTIME_ENV.has(k) && !NODE_REFERENCE_ENV.has(k));
      expect({ n, unknown }).toEqual({ n, unknown: [] });
      expect({ n, problems: configProblems(env) }).toEqual({ n, problems: null });
      expect(env.KAFKA_RUNS_PARTITIONS).toBe("12");
      expect(env.DATABASE_URL).toContain("@pgbouncer:6432/");
      expect(env.DATABASE_DIRECT_URL).toContain("@postgres:5432/");
      // the INTERNAL listeners of the three brokers, never the controller
      expect(env.KAFKA_BROKERS).toBe("kafka:19092,kafka-2:19092,kafka-3:19092");
      expect([env.KAFKA_REPLICATION_FACTOR, env.KAFKA_MIN_INSYNC_REPLICAS, env.KAFKA_IDEMPOTENT]).toEqual(["3", "2", "true"]);
    }
  });

  test("host ports are published on 127.0.0.1 only", () => {
    for (const [name, s] of Object.entries(services))
      for (const p of s.ports ?? []) expect({ name, p: String(p) }).toEqual({ name, p: expect.stringMatching(/^127\.0\.0\.1:\d+:\d+$/) });
  });

  test("nginx balances over exactly the API containers and waits for each", () => {
    const nginx = services.nginx;
    const upstreams = String(nginx.environment.NGINX_UPSTREAMS)
      .split(/[,\s]+/)
      .filter(Boolean)
      .sort();
    expect(upstreams).toEqual(named("api").map((n) => `${n}:${services[n].environment.PORT}`));
    for (const n of named("api")) expect(nginx.depends_on[n]).toEqual({ condition: "service_healthy", restart: true });
    expect(nginx.volumes).toContain("./infra/nginx:/etc/wf-nginx:ro");
  });

  test("files mounted from the repository exist, and build targets exist in the Dockerfile", () => {
    for (const s of Object.values(services))
      for (const v of s.volumes ?? []) {
        const src = String(v).split(":")[0]!;
        if (src.startsWith("./")) expect({ src, exists: existsSync(join(ROOT, src)) }).toEqual({ src, exists: true });
      }
    const stages = [...read("Dockerfile").matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]);
    for (const [name, s] of Object.entries(services))
      if (s.build) expect({ name, target: stages.includes(s.build.target) }).toEqual({ name, target: true });
  });

  test("Prometheus scrapes /metrics of every API and Node reference container", () => {
    const prom = yamlDocs("infra/prometheus/prometheus.yml")[0];
    const job = (j: string) => prom.scrape_configs.find((c: any) => c.job_name === j);
    const targets = (j: string) =>
      job(j)
        .static_configs.flatMap((c: any) => c.targets)
        .sort();
    expect(targets("api")).toEqual(named("api").map((n) => `${n}:${services[n].environment.PORT}`));
    expect(targets("node-reference")).toEqual(named("node").map((n) => `${n}:${services[n].environment.NODE_PORT}`));
    for (const j of ["api", "node-reference"]) expect(job(j).metrics_path).toBe("/metrics");
    expect(services.prometheus.volumes).toContain("./infra/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro");
  });
});

// ------------------------------------------------------------------------------------------ k8s
describe("infra/k8s", () => {
  const dir = "infra/k8s";
  const kustomization = yamlDocs(`${dir}/kustomization.yaml`)[0];
  const files: string[] = kustomization.resources;
  const docs = files.flatMap((f) => yamlDocs(`${dir}/${f}`).map((doc) => ({ file: f, doc })));
  const find = (kind: string, name: string) => docs.find((d) => d.doc.kind === kind && d.doc.metadata.name === name)?.doc;
  const configMap = find("ConfigMap", "workflow-config");
  const secret = find("Secret", "workflow-secrets");
  const appEnv: Record<string, string> = { ...configMap.data, ...secret.stringData };
  const api = find("Deployment", "workflow-api");
  const worker = find("Deployment", "workflow-worker");
  const scaledObject = find("ScaledObject", "workflow-worker");

  test("kustomization.yaml lists every manifest of the folder, and only existing ones", () => {
    const onDisk = readdirSync(join(ROOT, dir))
      .filter((f) => /\.ya?ml$/.test(f) && f !== "kustomization.yaml")
      .sort();
    expect([...files].sort()).toEqual(onDisk);
    expect(kustomization.apiVersion).toBe("kustomize.config.k8s.io/v1beta1");
    expect(kustomization.kind).toBe("Kustomization");
    const known = ["apiVersion", "kind", "namespace", "labels", "resources", "images"];
    expect(Object.keys(kustomization).filter((k) => !known.includes(k))).toEqual([]);
    expect(find("Namespace", kustomization.namespace)).toBeDefined();
    for (const img of kustomization.images) expect(docs.some((d) => JSON.stringify(d.doc).includes(`"image":"${img.name}"`))).toBe(true);
  });

  for (const version of ["1.30.0", "1.37.0"]) {
    test(`every object validates against the Kubernetes v${version} schemas (unknown fields are errors)`, () => {
      const schema = loadSchema(`kubernetes-v${version}.json`);
      const ajv = ajv2020();
      ajv.addSchema(schema);
      const kinds: Record<string, string> = schema["x-kinds"];
      for (const { file, doc } of docs) {
        if (doc.apiVersion === "keda.sh/v1alpha1") continue;
        const def = kinds[`${doc.apiVersion}/${doc.kind}`];
        expect({ file, kind: `${doc.apiVersion}/${doc.kind}`, known: def !== undefined }).toEqual({
          file,
          kind: `${doc.apiVersion}/${doc.kind}`,
          known: true,
        });
        const validate = ajv.getSchema(`${schema.$id}#/$defs/${def}`)!;
        validate(doc);
        expect({ file, errors: errorsText(validate.errors) }).toEqual({ file, errors: "" });
      }
    });
  }

  test("the Kubernetes schema check can fail: a misspelt field and a wrong type are rejected", () => {
    const schema = loadSchema("kubernetes-v1.37.0.json");
    const ajv = ajv2020();
    ajv.addSchema(schema);
    const validate = ajv.getSchema(`${schema.$id}#/$defs/io.k8s.api.apps.v1.Deployment`)!;
    const broken = structuredClone(api);
    broken.spec.template.spec.containers[0].readinesProbe = broken.spec.template.spec.containers[0].readinessProbe;
    broken.spec.template.spec.containers[0].ports[0].containerPort = "3000";
    expect(validate(broken)).toBe(false);
    expect(errorsText(validate.errors)).toContain("readinesProbe");
    expect(errorsText(validate.errors)).toContain("containerPort");
  });

  test("the ScaledObject validates against KEDA v2.20.2's CRD schema, metadata against ObjectMeta", () => {
    const validate = ajvDraft7().compile(loadSchema("keda-scaledobject-v2.20.2.json"));
    validate(scaledObject);
    expect(errorsText(validate.errors)).toBe("");
    const k8s = loadSchema("kubernetes-v1.37.0.json");
    const ajv = ajv2020();
    ajv.addSchema(k8s);
    const meta = ajv.getSchema(`${k8s.$id}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`)!;
    meta(scaledObject.metadata);
    expect(errorsText(meta.errors)).toBe("");
    // The CRD's CEL rule (x-kubernetes-validations), which ajv cannot run.
    const { minReplicaCount: min, maxReplicaCount: max = 100 } = scaledObject.spec;
    expect(min === undefined || min <= max).toBe(true);
    // ... and the schema check can fail.
    const broken = structuredClone(scaledObject);
    broken.spec.triggers[0].metadata.lagThreshold = 50; // trigger metadata is a map of strings
    broken.spec.maxReplicas = 3;
    expect(validate(broken)).toBe(false);
    expect(errorsText(validate.errors)).toContain("lagThreshold");
    expect(errorsText(validate.errors)).toContain("maxReplicas");
  });

  // kubectl (with kustomize) is part of this machine image, not installed by the project: skipped without it.
  const kubectl = sh(["sh", "-c", "command -v kubectl"]).code === 0;
  if (!kubectl) console.warn("SKIPPED kubectl kustomize test: kubectl is not on PATH (the schema checks above still ran)");
  test.skipIf(!kubectl)("kubectl kustomize builds it: namespaced, labelled, image set, and still valid", () => {
    const built = sh(["kubectl", "kustomize", dir]);
    expect(built.code).toBe(0);
    const objects = (Bun.YAML.parse(built.out) as any[]).filter(Boolean);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      docs.map((d) => `${d.doc.kind}/${d.doc.metadata.name}`).sort(),
    );
    const k8s = loadSchema("kubernetes-v1.37.0.json");
    const ajv = ajv2020();
    ajv.addSchema(k8s);
    const keda = ajvDraft7().compile(loadSchema("keda-scaledobject-v2.20.2.json"));
    for (const o of objects) {
      if (o.kind !== "Namespace")
        expect({ o: o.metadata.name, ns: o.metadata.namespace }).toEqual({ o: o.metadata.name, ns: "workflow-service" });
      expect(o.metadata.labels["app.kubernetes.io/part-of"]).toBe("workflow-service");
      const validate =
        o.kind === "ScaledObject" ? keda : ajv.getSchema(`${k8s.$id}#/$defs/${k8s["x-kinds"][`${o.apiVersion}/${o.kind}`]}`)!;
      validate(o);
      expect({ o: o.metadata.name, errors: errorsText(validate.errors) }).toEqual({ o: o.metadata.name, errors: "" });
      if (o.kind === "Deployment") {
        expect(o.spec.template.spec.containers[0].image).toBe("workflow-service:latest");
        expect(Object.keys(o.spec.selector.matchLabels)).toEqual(["app.kubernetes.io/name"]); // includeSelectors: false
      }
    }
  });

  test("the ScaledObject scales the worker Deployment on the lag of the workers' group and topic", () => {
    expect(scaledObject.spec.scaleTargetRef).toMatchObject({ kind: "Deployment", name: worker.metadata.name });
    const trigger = scaledObject.spec.triggers.find((t: any) => t.type === "kafka");
    expect(trigger.metadata.consumerGroup).toBe(appEnv.WORKER_GROUP_ID ?? settings.workerGroupId.default);
    expect(trigger.metadata.consumerGroup).toBe("workflow-workers");
    expect(trigger.metadata.topic).toBe(appEnv.KAFKA_RUNS_TOPIC ?? settings.runsTopic.default);
    expect(trigger.metadata.topic).toBe("workflow-runs");
    expect(trigger.metadata.bootstrapServers).toBe(appEnv.KAFKA_BROKERS);
    // More consumers than partitions would idle.
    expect(scaledObject.spec.maxReplicaCount).toBeLessThanOrEqual(Number(appEnv.KAFKA_RUNS_PARTITIONS));
    expect(scaledObject.spec.minReplicaCount).toBeGreaterThanOrEqual(1); // the reconciler runs in workers
  });

  test("ConfigMap and Secret hold only known settings, and together pass the config validation", () => {
    const unknown = Object.keys(appEnv).filter((k) => !SETTING_NAMES.has(k) && !RUNTIME_ENV.has(k));
    expect(unknown).toEqual([]);
    expect(configProblems(appEnv)).toBeNull();
    expect(Object.keys(secret.stringData).sort()).toEqual([
      "CURSOR_SECRET",
      "DATABASE_DIRECT_URL",
      "DATABASE_READ_URL",
      "DATABASE_URL",
      "SECRETS_KEYS",
    ]);
    expect(appEnv.API_REPLICAS).toBe("1");
    expect(appEnv.WORKER_REPLICAS).toBe("1");
    expect(appEnv.KAFKA_RUNS_PARTITIONS).toBe("12");
  });

  test("selectors match the pod labels; references point to objects that exist", () => {
    for (const d of [api, worker]) {
      const labels = d.spec.template.metadata.labels;
      for (const [k, v] of Object.entries(d.spec.selector.matchLabels)) expect(labels[k]).toBe(v);
      expect(d.spec.replicas).toBeUndefined(); // the HPA / KEDA own the replica count
      for (const c of d.spec.template.spec.containers) {
        expect(c.resources.requests.cpu && c.resources.requests.memory).toBeTruthy();
        expect(c.resources.limits.cpu && c.resources.limits.memory).toBeTruthy();
        expect(c.envFrom.map((e: any) => e.configMapRef?.name ?? e.secretRef?.name).sort()).toEqual([
          "workflow-config",
          "workflow-secrets",
        ]);
      }
    }
    const podLabels = api.spec.template.metadata.labels;
    const service = find("Service", "workflow-api");
    for (const [k, v] of Object.entries(service.spec.selector)) expect(podLabels[k]).toBe(v);
    const portNames = api.spec.template.spec.containers[0].ports.map((p: any) => p.name);
    expect(portNames).toContain(service.spec.ports[0].targetPort);
    for (const pdb of docs.filter((d) => d.doc.kind === "PodDisruptionBudget").map((d) => d.doc)) {
      const target = [api, worker].find((d) => d.metadata.name === pdb.metadata.name)!;
      expect(target.spec.template.metadata.labels).toMatchObject(pdb.spec.selector.matchLabels);
    }
    const hpa = find("HorizontalPodAutoscaler", "workflow-api");
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: api.metadata.name });
    expect(hpa.spec.metrics[0].resource.name).toBe("cpu");
  });

  test("API probes: readiness /health/ready, liveness /health; workers have none (no HTTP server)", () => {
    const c = api.spec.template.spec.containers[0];
    expect(c.command).toEqual(["bun", "run", "api"]);
    expect(c.readinessProbe.httpGet).toEqual({ path: "/health/ready", port: "http" });
    expect(c.livenessProbe.httpGet).toEqual({ path: "/health", port: "http" });
    expect(c.ports[0].containerPort).toBe(Number(appEnv.PORT));
    const w = worker.spec.template.spec.containers[0];
    expect(w.command).toEqual(["bun", "run", "worker"]);
    expect([w.readinessProbe, w.livenessProbe, w.startupProbe]).toEqual([undefined, undefined, undefined]);
  });

  test("grace periods cover the drain the processes do on SIGTERM", () => {
    // Supervisors allow drain + 15 s (api/src/main.ts, worker/src/main.ts).
    const apiNeedS = Number(appEnv.API_DRAIN_MS) / 1000 + 15;
    const workerNeedS = Number(appEnv.WORKER_SHUTDOWN_TIMEOUT_MS ?? settings.shutdownTimeoutMs.default) / 1000 + 15;
    expect(api.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(apiNeedS);
    expect(worker.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(workerNeedS);
  });
});

// ------------------------------------------------------------------------------------------ nginx
const nginxInstalled = sh(["sh", "-c", "command -v nginx"]).code === 0;
const isRoot = process.getuid?.() === 0;

describe("nginx", () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), "wf-nginx-test-"));
  });
  afterAll(() => {
    sh([join(ROOT, "infra/stack"), "down", "nginx"], { STACK_DIR: scratch });
    rmSync(scratch, { recursive: true, force: true });
  });

  const stack = (args: string[], env: Record<string, string> = {}) =>
    sh([join(ROOT, "infra/stack"), ...args], { STACK_DIR: scratch, ...env });

  test("nginx is installed (by infra/stack install, which infra/stack up runs)", () => {
    expect({ nginxInstalled, hint: "run infra/stack install nginx" }).toEqual({
      nginxInstalled: true,
      hint: "run infra/stack install nginx",
    });
  });

  test("infra/stack renders a config that nginx -t accepts, sized for 10,000 connections", () => {
    const r = stack(["nginx-check"], { NGINX_PORT: "18080" });
    expect(r.out).toContain("test is successful");
    expect(r.code).toBe(0);
    const conf = readFileSync(join(scratch, "nginx/nginx.check.conf"), "utf8");
    const num = (re: RegExp) => Number(conf.match(re)?.[1]);
    expect(conf).toMatch(/^worker_processes auto;/m);
    expect(num(/worker_connections (\d+);/)).toBeGreaterThanOrEqual(16384);
    expect(num(/worker_rlimit_nofile (\d+);/)).toBeGreaterThanOrEqual(num(/worker_connections (\d+);/));
    expect(conf).toMatch(/multi_accept on;/);
    expect(conf).toMatch(/upstream api \{[^}]*\n\s*least_conn;/);
    expect(conf).toMatch(/server 127\.0\.0\.1:3000 /);
    expect(conf).toMatch(/keepalive 256;/);
    expect(conf).toMatch(/proxy_http_version 1\.1;/);
    expect(conf).toMatch(/proxy_set_header Connection "";/);
    expect(conf).toMatch(/proxy_set_header X-Request-Id \$wf_request_id;/);
    expect(conf).toMatch(/listen 127\.0\.0\.1:18080 /);
    expect(conf).toMatch(/^\s*access_log off;/m);
    const nextUpstream = conf.match(/proxy_next_upstream ([^;]*);/)![1]!;
    expect(nextUpstream.split(/\s+/).sort()).toEqual(["error", "timeout"]); // never non_idempotent
    // A run's events stream is passed on unbuffered and may stay open long.
    const events = conf.match(/location ~ \^\/api\/v1\/runs\/\[\^\/\]\+\/events\$ \{([^}]*)\}/)?.[1] ?? "";
    expect(events).toMatch(/proxy_buffering off;/);
    expect(events).toMatch(/proxy_read_timeout 1h;/);
  });

  test("nginx -t is really consulted: an unresolvable upstream is refused", () => {
    const r = stack(["nginx-check"], { NGINX_UPSTREAMS: "no-such-host.invalid:3000" });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("host not found in upstream");
  });

  test("bad settings are refused with the variable named", () => {
    for (const [env, msg] of [
      [{ NGINX_UPSTREAMS: "api" }, "NGINX_UPSTREAMS entry 'api' is not host:port"],
      [{ NGINX_WORKER_RLIMIT_NOFILE: "1024" }, "NGINX_WORKER_RLIMIT_NOFILE=1024 is below 16384"],
      [{ NGINX_ACCESS_LOG: "maybe" }, "NGINX_ACCESS_LOG=maybe must be off, on or stdout"],
    ] as const) {
      const r = stack(["nginx-check"], env);
      expect(r.code).not.toBe(0);
      expect(r.out).toContain(msg);
    }
  });

  test("the compose container's config (same template, same renderer) passes nginx -t", () => {
    const compose = interpolate(yamlDocs("docker-compose.yml")[0], []) as any;
    const env: Record<string, string> = { ...compose.services.nginx.environment };
    const prefix = join(scratch, "compose-nginx");
    cpSync(join(ROOT, "infra/nginx"), join(prefix, "wf"), { recursive: true });
    mkdirSync(join(prefix, "temp")); // as the compose command does (mkdir -p /tmp/nginx/temp)
    const render = (upstreams: string, out: string) =>
      sh(["sh", join(prefix, "wf/render.sh"), join(prefix, "wf/nginx.conf.tmpl"), out], { ...env, NGINX_UPSTREAMS: upstreams });
    expect(render(env.NGINX_UPSTREAMS!, join(prefix, "real.conf")).code).toBe(0);
    // The container resolves api-1..3 on its network; here they are swapped for local addresses,
    // and that is the only difference between the file tested and the real one.
    const local = env
      .NGINX_UPSTREAMS!.split(",")
      .map((_, i) => `127.0.0.1:${3101 + i}`)
      .join(",");
    expect(render(local, join(prefix, "local.conf")).code).toBe(0);
    const real = readFileSync(join(prefix, "real.conf"), "utf8").split("\n");
    const tested = readFileSync(join(prefix, "local.conf"), "utf8").split("\n");
    const differing = real.filter((l, i) => l !== tested[i]);
    expect(differing).toEqual(env.NGINX_UPSTREAMS!.split(",").map((u) => `        server ${u} max_fails=1 fail_timeout=5s;`));
    expect(real.join("\n")).toMatch(/listen 8080 backlog=4096 reuseport;/);
    // The command compose runs: nginx -t -p <prefix> -e stderr -c <conf>; the listen port is not bound by -t.
    const t = sh(["nginx", "-t", "-p", `${prefix}/`, "-e", "stderr", "-c", join(prefix, "local.conf")]);
    expect(t.out).toContain("test is successful");
    expect(t.code).toBe(0);
  });

  describe("started by infra/stack up nginx (scratch STACK_DIR) in front of stub upstreams", () => {
    const seen: { server: string; method: string; rid: string | null }[] = [];
    const good: ReturnType<typeof Bun.serve>[] = [];
    let dropper: import("bun").TCPSocketListener<undefined> | undefined;
    let nginxPort = 0;
    const hits = { dropper: 0 };

    beforeAll(async () => {
      for (const name of ["a", "b"])
        good.push(
          Bun.serve({
            hostname: "127.0.0.1",
            port: 0,
            fetch(req) {
              seen.push({ server: name, method: req.method, rid: req.headers.get("x-request-id") });
              return new Response(name, { headers: { "x-request-id": req.headers.get("x-request-id") ?? "" } });
            },
          }),
        );
      // An upstream that accepts, reads the request and closes without answering: a replica that
      // died mid-request. nginx may retry a GET elsewhere; a POST it must not resend.
      dropper = Bun.listen({
        hostname: "127.0.0.1",
        port: 0,
        socket: {
          data(socket) {
            hits.dropper++;
            socket.end();
          },
        },
      });
      const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
      nginxPort = probe.port;
      probe.stop(true);
    });
    afterAll(() => {
      for (const s of good) s.stop(true);
      dropper?.stop(true);
    });

    const up = (upstreams: string) => stack(["up", "nginx"], { NGINX_PORT: String(nginxPort), NGINX_UPSTREAMS: upstreams });
    const url = (path = "/x") => `http://127.0.0.1:${nginxPort}${path}`;

    test.skipIf(!isRoot)("least_conn spreads requests over the upstreams and x-request-id passes through", async () => {
      const r = up(good.map((s) => `127.0.0.1:${s.port}`).join(","));
      expect(r.out).toContain("nginx: ready on");
      expect(r.code).toBe(0);
      expect(stack(["status"], { NGINX_PORT: String(nginxPort) }).out).toMatch(/^nginx\s+running/m);
      seen.length = 0;
      // Concurrent requests: least_conn sends each to the upstream with fewer in flight.
      const bodies = await Promise.all(Array.from({ length: 40 }, () => fetch(url()).then((res) => res.text())));
      expect(new Set(bodies)).toEqual(new Set(["a", "b"]));
      const mine = await fetch(url(), { headers: { "x-request-id": "infra-test-42" } });
      expect(mine.headers.get("x-request-id")).toBe("infra-test-42");
      expect(seen.at(-1)!.rid).toBe("infra-test-42");
      // Without one, nginx's $request_id (32 hex digits) goes to the upstream.
      await fetch(url());
      expect(seen.at(-1)!.rid).toMatch(/^[0-9a-f]{32}$/);
      expect((await fetch(url("/nginx/health"))).status).toBe(200);
    });

    test.skipIf(!isRoot)("a GET that fails on one upstream is retried on another; a POST is never sent twice", async () => {
      const upstreams = `127.0.0.1:${dropper!.port},127.0.0.1:${good[0]!.port}`;
      // GET: whichever upstream least_conn picks first, every answer comes from the good one.
      expect(stack(["restart", "nginx"], { NGINX_PORT: String(nginxPort), NGINX_UPSTREAMS: upstreams }).code).toBe(0);
      hits.dropper = 0;
      for (let i = 0; i < 4 && hits.dropper === 0; i++) {
        const res = await fetch(url("/get"));
        expect(res.status).toBe(200);
        expect(await res.text()).toBe("a");
      }
      expect(hits.dropper).toBeGreaterThan(0); // the retry did happen
      // POST: restarted, so the failed upstream is not marked down; the POST that reaches the
      // dropping upstream answers 502 and reaches no other upstream.
      expect(stack(["restart", "nginx"], { NGINX_PORT: String(nginxPort), NGINX_UPSTREAMS: upstreams }).code).toBe(0);
      hits.dropper = 0;
      seen.length = 0;
      const statuses: number[] = [];
      for (let i = 0; i < 4 && hits.dropper === 0; i++)
        statuses.push((await fetch(url("/post"), { method: "POST", body: `{"i":${i}}` })).status);
      expect(hits.dropper).toBe(1);
      expect(statuses.filter((s) => s === 502)).toHaveLength(1);
      expect(seen.filter((s) => s.method === "POST")).toHaveLength(statuses.length - 1);
    });

    test.skipIf(!isRoot)("down nginx stops it", () => {
      expect(stack(["down", "nginx"], { NGINX_PORT: String(nginxPort) }).code).toBe(0);
      expect(stack(["status"], { NGINX_PORT: String(nginxPort) }).out).toMatch(/^nginx\s+stopped/m);
    });
  });
});

// ------------------------------------------------------------------------------------------ grafana
describe("Grafana dashboard and datasource", () => {
  const metrics = createMetrics("bun", () => ({
    cache: { hits: 1, misses: 1, errors: 1, bypassed: 1 },
    publisher: { published: 1, deferred: 1, errors: 1 },
    breakers: [new Breaker("postgres", { failures: 1, openMs: 1000 }, () => true)],
    db: { inFlight: 1, poolSize: 1 },
  }));
  registerApiMetrics(metrics.registry, () => ({ relay: { relayed: 1, failures: 1 }, access: { limited: 1, limiterErrors: 1 } }));
  const workerMetrics = registerWorkerMetrics(metrics.registry, () => ({
    runs: { completed: 1, failed: 1, cancelled: 1, handedBack: 1, parked: 1 },
    lag: new Map([["workflow-runs/0", 1]]),
    schedules: { started: 1, skippedOverlap: 1, skippedNoWorkflow: 1 },
    webhooks: { delivered: 1, failedAttempts: 2, failed: 1 },
    waiting: async () => ({ concurrency_slot: 1, parked: 1, scheduled: 1 }),
    lateness: async () => ({ pending: 1, parked: 1, outbox: 1 }),
  }));
  registerReplicaMetrics(metrics.registry, { lagSeconds: 0.5, reachable: true, counts: { replica: 1, primary_missing: 1 } });
  workerMetrics.stepDuration.observe({ type: "http", status: "completed" }, 0.1);
  workerMetrics.scheduleLag.observe(0.2);
  const dashboard = JSON.parse(read("infra/grafana/dashboards/workflow-service.json"));
  const panels: any[] = dashboard.panels.filter((p: any) => p.type !== "row");
  const exprs: string[] = panels.flatMap((p) => p.targets.map((t: any) => t.expr));
  const custom = [
    "http_request_duration_seconds",
    "http_requests_in_flight",
    "cache_operations_total",
    "kafka_publish_total",
    "outbox_relay_total",
    "kafka_produce_duration_seconds",
    "db_pool_connections",
    "circuit_breaker_state",
    "circuit_breaker_rejections_total",
    "circuit_breaker_opened_total",
    "rate_limit_total",
    "runs_finished_total",
    "kafka_consumer_lag",
    "runs_waiting",
    "runs_overdue_seconds",
    "outbox_oldest_age_seconds",
    "step_duration_seconds",
    "schedule_ticks_total",
    "schedule_lag_seconds",
    "webhook_attempts_total",
    "pg_replica_lag_seconds",
    "pg_replica_up",
    "db_reads_total",
  ];

  test("the datasource is provisioned with the uid every panel uses", () => {
    const ds = yamlDocs("infra/grafana/provisioning/datasources/prometheus.yaml")[0].datasources;
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ type: "prometheus", url: "http://prometheus:9090" });
    for (const p of panels) expect({ id: p.id, uid: p.datasource.uid }).toEqual({ id: p.id, uid: ds[0].uid });
    const provider = yamlDocs("infra/grafana/provisioning/dashboards/workflow-service.yaml")[0].providers[0];
    const compose = interpolate(yamlDocs("docker-compose.yml")[0], []) as any;
    expect(compose.services.grafana.volumes).toContain(`./infra/grafana/dashboards:${provider.options.path}:ro`);
    expect(new Set(dashboard.panels.map((p: any) => p.id)).size).toBe(dashboard.panels.length);
  });

  test("every metric the dashboard queries is one the service exports", async () => {
    const exported = new Set<string>();
    for (const m of await metrics.registry.getMetricsAsJSON()) {
      exported.add(m.name);
      if (String(m.type) === "histogram") for (const s of ["_bucket", "_sum", "_count"]) exported.add(m.name + s);
    }
    const used = new Set(exprs.flatMap(promqlMetricNames));
    expect(used.size).toBeGreaterThan(5);
    expect([...used].filter((n) => !exported.has(n))).toEqual([]);
    // and the extraction is not vacuous: it does see a name that is not exported
    expect(promqlMetricNames('sum by (route) (rate(http_requests_total{job=~"$job"}[$__rate_interval]))')).toEqual(["http_requests_total"]);
  });

  test("every metric of metrics.ts is on the dashboard", () => {
    const source = read("packages/platform/src/observability/metrics.ts");
    const declared = [...source.matchAll(/name: "([a-z_]+)"|fromSource\(\s*"([a-z_]+)"/g)].map((m) => m[1] ?? m[2]);
    expect(declared.sort()).toEqual([...custom].sort());
    const used = exprs.flatMap(promqlMetricNames).map((n) => n.replace(/_(bucket|sum|count)$/, ""));
    for (const m of declared) expect({ m, used: used.includes(m!) }).toEqual({ m, used: true });
  });

  test("labels grouped on and matched exist on the metric, with values the service emits", async () => {
    const target = new Set(["instance", "job", "runtime"]); // Prometheus target labels + the registry's default label
    const json = await metrics.registry.getMetricsAsJSON();
    const labelsOf = (name: string): Set<string> => {
      const base = name.replace(/_(bucket|sum|count)$/, "");
      const m = metrics.registry.getSingleMetric(base) as any;
      return new Set([...(m?.labelNames ?? []), ...target, ...(name.endsWith("_bucket") ? ["le"] : [])]);
    };
    const valuesOf = (name: string, label: string) =>
      new Set(json.find((m) => m.name === name)?.values.map((v: any) => String(v.labels[label])) ?? []);
    for (const expr of exprs) {
      const { grouped, matchers } = promqlLabels(expr);
      const names = promqlMetricNames(expr);
      for (const l of grouped) expect({ expr, l, ok: names.some((n) => labelsOf(n).has(l)) }).toEqual({ expr, l, ok: true });
      for (const m of matchers) {
        expect({ expr, label: m.label, ok: labelsOf(m.metric).has(m.label) }).toEqual({ expr, label: m.label, ok: true });
        if (m.op === "=" && m.label !== "job")
          expect({ expr, value: valuesOf(m.metric, m.label).has(m.value) }).toEqual({ expr, value: true });
      }
    }
  });

  test("the panels the brief asks for are there: throughput, p50/p95/p99 per route, 5xx and 4xx, in flight, cache, Kafka, outbox, CPU, memory", () => {
    const all = exprs.join("\n");
    for (const q of ["0.5", "0.95", "0.99"])
      expect(all).toContain(`histogram_quantile(${q}, sum by (le, route) (rate(http_request_duration_seconds_bucket`);
    expect(all).toMatch(/http_request_duration_seconds_count\{[^}]*status=~"5\.\."/);
    expect(all).toMatch(/http_request_duration_seconds_count\{[^}]*status=~"4\.\."/);
    for (const m of [
      "http_requests_in_flight",
      "sum by (result) (rate(cache_operations_total",
      "sum by (outcome) (rate(kafka_publish_total",
      "sum by (outcome) (rate(outbox_relay_total",
      "rate(process_cpu_seconds_total",
      "process_resident_memory_bytes",
    ])
      expect(all).toContain(m);
  });
});

// ------------------------------------------------------------------------------------------ Dockerfile
describe("Dockerfile", () => {
  const dockerfile = read("Dockerfile");
  /** The COPY sources of one stage (context paths; --from copies are not from the context). */
  const stageCopies = (stage: string) => {
    const body = dockerfile.split(/^FROM /m).find((s) => new RegExp(`\\bAS ${stage}\\s*$`, "m").test(s.split("\n")[0]!))!;
    return [...body.matchAll(/^COPY (?!--from)((?:--\S+ )*)(.+)$/gm)].flatMap((m) => {
      const parts = m[2]!.trim().split(/\s+/);
      return parts.slice(0, -1).map((src) => ({ src, dest: parts.at(-1)!, excludes: m[1]!.match(/--exclude=(\S+)/g) ?? [] }));
    });
  };

  /** Copies what a stage's COPY lines copy (node_modules excluded, as --exclude=**\/node_modules does). */
  function buildContext(stage: string): string {
    const dir = mkdtempSync(join(tmpdir(), `wf-docker-${stage}-`));
    for (const { src, dest, excludes } of stageCopies(stage)) {
      const skipped = excludes.map((e) => /^--exclude=\*\*\/([\w.-]+)$/.exec(e)?.[1]);
      expect({ src, excludes, understood: skipped.every(Boolean) }).toEqual({ src, excludes, understood: true });
      const to = dest.endsWith("/") ? join(dir, src) : join(dir, dest);
      cpSync(join(ROOT, src), to, { recursive: true, filter: (p) => !p.split("/").some((part) => skipped.includes(part)) });
    }
    return dir;
  }

  test("the app stage copies every source the API and the workers import, and installs with production deps only", () => {
    const dir = buildContext("app");
    try {
      const install = sh(["bun", "install", "--frozen-lockfile", "--production"], {}, dir);
      expect(install.out).not.toContain("error");
      expect(install.code).toBe(0);
      // Bundling resolves every import from what the image would hold, without running anything.
      const entries = ["api/src/main.ts", "api/src/server.ts", "worker/src/main.ts", "worker/src/process.ts"];
      const built = sh(["bun", "build", "--target=bun", "--outdir", join(dir, ".out"), ...entries], {}, dir);
      expect(built.out).not.toMatch(/error|Could not resolve/i);
      expect(built.code).toBe(0);
      const scripts = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).scripts;
      expect(scripts.api).toBe("bun run --cwd api start");
      expect(scripts.worker).toBe("bun run --cwd worker start");
      expect(existsSync(join(dir, "api/node_modules/elysia"))).toBe(true);
      expect(existsSync(join(dir, "node_modules/typescript"))).toBe(false); // the root's devDependencies are not linked
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  test("the Node reference stage copies reference/, builds it, and runs its dist with the image's node on NODE_PORT 3001", () => {
    const copies = stageCopies("node-reference").map((c) => c.src);
    expect(copies).toContain("reference");
    expect(dockerfile).toMatch(/RUN bun install --frozen-lockfile --production && bun reference\/node\/scripts\/build\.ts/);
    expect(dockerfile).toMatch(/CMD \["node", "reference\/node\/dist\/main\.js"\]/);
    expect(dockerfile).toMatch(/ENV HOST=0\.0\.0\.0 NODE_PORT=3001/);
  });

  // Until the Node reference exists (reference/node, being written), this stage cannot be built.
  test.skipIf(!existsSync(join(ROOT, "reference")))(
    "the Node reference stage installs and builds what its CMD runs",
    () => {
      const dir = buildContext("node-reference");
      try {
        expect(existsSync(join(dir, "reference/node/dist"))).toBe(false); // a host build stays out
        expect(sh(["bun", "install", "--frozen-lockfile", "--production"], {}, dir).code).toBe(0);
        const build = sh(["bun", "reference/node/scripts/build.ts"], {}, dir);
        expect({ code: build.code, out: build.out }).toEqual({ code: 0, out: expect.stringContaining("built") });
        expect(existsSync(join(dir, "reference/node/dist/main.js"))).toBe(true);
        expect(existsSync(join(dir, "reference/node/dist/openapi.json"))).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    120_000,
  );

  test("every stage's context sources exist (reference/ only once the Node reference lands)", () => {
    for (const stage of ["app", "node-reference"])
      for (const { src } of stageCopies(stage))
        if (src !== "reference") expect({ src, exists: existsSync(join(ROOT, src)) }).toEqual({ src, exists: true });
  });
});

// ------------------------------------------------------------------------------------------ sizing
describe("sizing for 10,000 users (infra/sizing.md) holds for the defaults", () => {
  const compose = interpolate(yamlDocs("docker-compose.yml")[0], []) as any;
  const k8s = (f: string) => yamlDocs(`infra/k8s/${f}`)[0];
  const hardNofile = Number(sh(["sh", "-c", "ulimit -Hn"]).out.trim()) || Infinity;
  const pool = Number(settings.dbPoolSize.default);
  const maxClientConn = stackInt("PGBOUNCER_MAX_CLIENT_CONN");
  const poolSize = stackInt("PGBOUNCER_POOL_SIZE");
  const pgMax = stackInt("PG_MAX_CONNECTIONS");

  test("compose uses the same PostgreSQL and PgBouncer limits as infra/stack", () => {
    expect(compose.services.pgbouncer.environment.MAX_CLIENT_CONN).toBe(String(maxClientConn));
    expect(compose.services.pgbouncer.environment.DEFAULT_POOL_SIZE).toBe(String(poolSize));
    expect(compose.services.postgres.command).toContain(`max_connections=${pgMax}`);
  });

  test("PgBouncer admits every client pool at full scale, with headroom, within its open-files limit", () => {
    // Largest deployment: HPA max API pods + KEDA max workers + 3 Node reference processes.
    const apiMax = k8s("api-hpa.yaml").spec.maxReplicas;
    const workersMax = k8s("worker-scaledobject.yaml").spec.maxReplicaCount;
    const clients = (apiMax + workersMax + 3) * pool;
    expect(maxClientConn).toBeGreaterThanOrEqual(2 * clients);
    // One descriptor per client and per server connection (PgBouncer raises its soft limit to the
    // hard one in infra/stack): leave room for ten databases' pools and PgBouncer's own files.
    expect(maxClientConn + 10 * poolSize + 100).toBeLessThanOrEqual(hardNofile);
  });

  test("PostgreSQL admits PgBouncer's pool, the direct connections and the superuser reserve", () => {
    const processes = 3 + 3 + 3; // API + workers + Node reference: one migration connection each at start
    expect(pgMax).toBeGreaterThanOrEqual(poolSize + processes + 3 /* superuser_reserved_connections */ + 2 /* bench */);
    // ... with room for the integration tests' extra databases (each its own PgBouncer pool)
    expect(pgMax).toBeGreaterThanOrEqual(5 * poolSize);
  });

  test("nginx: 10,000 clients, each with an upstream connection, fit in the workers of two cores", () => {
    const conns = stackInt("NGINX_WORKER_CONNECTIONS");
    expect(conns).toBeGreaterThanOrEqual(16384);
    expect(2 * conns).toBeGreaterThanOrEqual(2 * 10_000);
    expect(stackInt("NGINX_WORKER_RLIMIT_NOFILE")).toBeGreaterThanOrEqual(conns);
    expect(stackInt("NGINX_WORKER_RLIMIT_NOFILE")).toBeLessThanOrEqual(hardNofile);
    expect(stackInt("NGINX_UPSTREAM_KEEPALIVE")).toBe(256);
    expect(compose.services.nginx.environment.NGINX_WORKER_CONNECTIONS).toBe(stackDefault("NGINX_WORKER_CONNECTIONS"));
    expect(compose.services.nginx.environment.NGINX_WORKER_RLIMIT_NOFILE).toBe(stackDefault("NGINX_WORKER_RLIMIT_NOFILE"));
  });

  test("Kafka: three KRaft nodes with one cluster id and a quorum of the three, topics on all three and acknowledged by two", () => {
    const nodes = ["kafka", "kafka-2", "kafka-3"].map((n) => compose.services[n].environment as Record<string, string>);
    expect(nodes.map((e) => e.KAFKA_NODE_ID)).toEqual(["1", "2", "3"]);
    expect(new Set(nodes.map((e) => e.CLUSTER_ID)).size).toBe(1);
    for (const e of nodes) {
      expect(e.KAFKA_PROCESS_ROLES).toBe("broker,controller");
      expect(e.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe("1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093");
      expect([e.KAFKA_DEFAULT_REPLICATION_FACTOR, e.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR, e.KAFKA_MIN_INSYNC_REPLICAS]).toEqual([
        "3",
        "3",
        "2",
      ]);
    }
    expect(new Set(["kafka", "kafka-2", "kafka-3"].map((n) => compose.services[n].volumes[0])).size).toBe(3);
  });

  test("Kafka: 12 partitions in compose and k8s, and no more workers than partitions", () => {
    const cm = k8s("configmap.yaml").data;
    expect(cm.KAFKA_RUNS_PARTITIONS).toBe("12");
    expect(compose.services.kafka.environment.KAFKA_NUM_PARTITIONS).toBe("12");
    expect(k8s("worker-scaledobject.yaml").spec.maxReplicaCount).toBeLessThanOrEqual(12);
  });

  test("infra/sizing.md states the numbers the files use", () => {
    const doc = read("infra/sizing.md");
    for (const n of [maxClientConn, poolSize, pgMax, stackInt("NGINX_WORKER_CONNECTIONS"), stackInt("NGINX_WORKER_RLIMIT_NOFILE")])
      expect(doc).toContain(n.toLocaleString("en-US"));
  });
});
