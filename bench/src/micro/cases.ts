/**
 * The micro benchmarks: the service's hot paths, measured on the real code (the API's Elysia `t`
 * schemas, the domain's cursor, templating, definition rules, cache keys and ids), one function per
 * case. Each case also says what its result must be, so a test can run every case once and catch a
 * benchmark that silently stopped measuring what it claims (a valid body that no longer validates).
 */

import { Run as RunSchema, TriggerInput } from "@wf/contract/runs";
import { WorkflowInput, Workflow as WorkflowSchema } from "@wf/contract/workflows";
import { isUuid, newId } from "@wf/core/ids";
import { CursorCodec, toPage } from "@wf/core/pagination";
import { type Run, type RunRow, type StepResult, toRun } from "@wf/core/runs";
import { renderDeep, type Scope } from "@wf/core/templates";
import { toWorkflow, validateDefinition, type Workflow } from "@wf/core/workflows";
import { keyPartitioner, loadGroupMessagesPerPartition } from "@wf/platform/bus";
import { cacheKeys } from "@wf/platform/cache";
import { Breaker } from "@wf/platform/resilience";
import { getSchemaValidator, t, ValidationError } from "elysia";
import { TypeCompiler } from "elysia/type-system";

export interface MicroCase {
  group: string;
  name: string;
  fn: () => unknown;
  /** What one call must return (once awaited) for the case to measure what its name says. */
  check: (result: unknown) => boolean;
}

// --- Fixtures -------------------------------------------------------------------------------------

/** The workflow of the contract (shared/CONTRACT.md, "Workflow"). */
export const CONTRACT_WORKFLOW = {
  name: "order-sync",
  description: "optional text",
  steps: [
    {
      name: "fetch",
      type: "http",
      config: { method: "GET", url: "http://example.test/orders/{{input.order_id}}", timeout_ms: 2000 },
      retry: { max_attempts: 3, backoff_ms: 100 },
    },
    { name: "pause", type: "delay", config: { ms: 50 } },
    { name: "shape", type: "transform", config: { output: { id: "{{input.order_id}}", status: "{{steps.fetch.status}}" } } },
    { name: "note", type: "log", config: { message: "synced {{input.order_id}}" } },
  ],
};
const CONTRACT_BODY_TEXT = JSON.stringify(CONTRACT_WORKFLOW);

/** Breaks the schema in several places: empty name, bad step name, unknown type, extra fields. */
const INVALID_BODY = {
  name: "",
  steps: [
    { name: "fetch order!", type: "email", config: { to: "ops@example.test" }, retry: { max_attempts: 0, backoff_ms: -1 } },
    { name: "pause", type: "delay", config: { ms: 50 }, when: "always" },
  ],
  owner: "someone",
};

/** Passes the schema but breaks the domain's rules: duplicate names, a bad URL, a forward reference. */
const INVALID_DEFINITION = {
  name: "order-sync",
  steps: [
    { name: "shape", type: "transform", config: { output: { status: "{{steps.fetch.status}}" } } },
    { name: "fetch", type: "http", config: { method: "FETCH", url: "ftp://example.test/orders" } },
    { name: "fetch", type: "delay", config: { ms: -5 } },
  ],
};

const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
const WORKFLOW: Workflow = toWorkflow({
  id: newId(),
  name: CONTRACT_WORKFLOW.name,
  description: CONTRACT_WORKFLOW.description,
  steps: CONTRACT_WORKFLOW.steps as Workflow["steps"],
  concurrency: null,
  timeout_ms: null,
  version: 3,
  created_at: new Date(T0),
  updated_at: new Date(T0 + 60_000),
});

const FETCH_OUTPUT = {
  status: 200,
  headers: { "content-type": "application/json", "content-length": "182", date: "Mon, 23 Nov 2026 08:00:01 GMT" },
  body: {
    id: "A-1042",
    status: "shipped",
    items: [
      { sku: "SKU-1", qty: 2 },
      { sku: "SKU-7", qty: 1 },
    ],
    total_cents: 12_990,
  },
};

/** A completed run of the contract's workflow, as the database gives it back. */
function runRow(i: number): RunRow {
  const start = new Date(T0 + i * 1000);
  const at = (ms: number) => new Date(start.getTime() + ms).toISOString();
  const steps: StepResult[] = [
    { name: "fetch", status: "completed", attempts: 1, started_at: at(2), finished_at: at(40), output: FETCH_OUTPUT },
    { name: "pause", status: "completed", attempts: 1, started_at: at(40), finished_at: at(91), output: null },
    { name: "shape", status: "completed", attempts: 1, started_at: at(91), finished_at: at(92), output: { id: "A-1042", status: 200 } },
    { name: "note", status: "completed", attempts: 1, started_at: at(92), finished_at: at(93), output: { message: "synced A-1042" } },
  ];
  return {
    id: newId(),
    workflow_id: WORKFLOW.id,
    workflow_version: 3,
    parent_run_id: null,
    schedule_id: null,
    replay_of: null,
    status: "completed",
    input: { order_id: "A-1042", source: "bench" },
    output: { id: "A-1042", status: 200 },
    error: null,
    steps,
    idempotency_key: `order-A-1042-${i}`,
    created_at: start,
    started_at: new Date(start.getTime() + 1),
    finished_at: new Date(start.getTime() + 93),
  };
}

const SECRET = "micro-benchmark-cursor-secret";
const codec = new CursorCodec(SECRET);
const RUNS_SCOPE = "runs:completed:";
/** 51 rows newest first: a page of 50 plus the one that says there is a next page. */
const ROWS = Array.from({ length: 51 }, (_, i) => runRow(51 - i));
const PAGE = toPage(ROWS, 50, codec, RUNS_SCOPE, toRun);
const RUN: Run = PAGE.items[0]!;

const POSITION = { createdAt: new Date(T0), id: WORKFLOW.id };
const CURSOR = codec.encode(POSITION, RUNS_SCOPE);
const TAMPERED = `${CURSOR.slice(0, 10)}${CURSOR[10] === "A" ? "B" : "A"}${CURSOR.slice(11)}`;

const SCOPE: Scope = { input: { order_id: "A-1042" }, steps: { fetch: FETCH_OUTPUT } };
const CONFIGS = CONTRACT_WORKFLOW.steps.map((s) => s.config);

/** Ids to rotate through, so no call sees the constant input of the previous one. */
const IDS = Array.from({ length: 1024 }, () => newId());
let next = 0;
const anyId = () => IDS[next++ & 1023]!;

const TRIGGER_BODY = { workflow_id: WORKFLOW.id, input: { order_id: "A-1042" }, idempotency_key: "order-A-1042" };

// --- Validators, compiled as the API compiles them (normalize: false, see api/src/app.ts) ----------

const validator = <T extends Parameters<typeof getSchemaValidator>[0]>(schema: T) => getSchemaValidator(schema, { normalize: false })!;
const workflowInput = validator(WorkflowInput);
const triggerInput = validator(TriggerInput);
const workflowResponse = validator(WorkflowSchema);
const runPageResponse = validator(t.Object({ items: t.Array(RunSchema), next_cursor: t.Nullable(t.String()) }));
const workflowInputTypeBox = TypeCompiler.Compile(WorkflowInput);

// Breakers as createInfrastructure (packages/platform/src/infrastructure.ts) builds them for PostgreSQL (with its query-time bound) and for Redis (none).
const outage = () => false;
const BOUNDED = new Breaker("postgres", { failures: 5, openMs: 5000, timeoutMs: 5000 }, outage);
const UNBOUNDED = new Breaker("redis", { failures: 5, openMs: 5000 }, outage);
const answered = () => Promise.resolve(ROWS.length);

// A trigger burst as the producer sends it: at 10,000 users an API process published its 10,000
// runs in a handful of sends of 2,000 to 5,500 messages, over the runs topic's 3 partitions.
const groupPerPartition = await loadGroupMessagesPerPartition();
const PARTITIONS = [0, 1, 2].map((partitionId) => ({ partitionErrorCode: 0, partitionId, leader: 0, replicas: [0], isr: [0] }));
const BURST = Array.from({ length: 2000 }, (_, i) => ({ key: IDS[i & 1023]!, value: `{"run_id":"${IDS[i & 1023]}"}` }));
const PARTITIONER = keyPartitioner();
const groupBurst = () => groupPerPartition({ topic: "wf.runs", partitionMetadata: PARTITIONS, messages: BURST, partitioner: PARTITIONER });

const isArray = (n?: number) => (r: unknown) => Array.isArray(r) && (n === undefined || r.length === n);
const isString = (r: unknown) => typeof r === "string" && r.length > 0;

const IDS_GROUP = "ids";
const RESILIENCE_GROUP = "circuit breaker (around every PostgreSQL, Redis and Kafka call)";
/** Groups whose cases are alternatives to one another: the report says how many times faster each is. */
export const COMPARED_GROUPS: ReadonlySet<string> = new Set([IDS_GROUP, RESILIENCE_GROUP]);

export function microCases(): MicroCase[] {
  const request = "request validation (Elysia, as compiled for the API)";
  const response = "response validation (what noValidate skips)";
  const json = "JSON";
  const cursor = "pagination cursor (HMAC-signed)";
  const template = "templating";
  const definition = "workflow definition rules";
  const keys = "cache keys";
  const ids = IDS_GROUP;
  const resilience = RESILIENCE_GROUP;
  const kafka = "Kafka producer (kafkajs, as patched)";
  return [
    {
      group: request,
      name: "workflow body: JSON.parse",
      fn: () => JSON.parse(CONTRACT_BODY_TEXT),
      check: (r) => (r as { name?: string }).name === "order-sync",
    },
    { group: request, name: "workflow body: Check, valid", fn: () => workflowInput.Check(CONTRACT_WORKFLOW), check: (r) => r === true },
    { group: request, name: "workflow body: Check, invalid", fn: () => workflowInput.Check(INVALID_BODY), check: (r) => r === false },
    {
      group: request,
      name: "workflow body: invalid, 422 field errors",
      fn: () => new ValidationError("body", workflowInput, INVALID_BODY).all,
      check: (r) => Array.isArray(r) && r.length >= 3,
    },
    {
      group: request,
      name: "workflow body: TypeBox TypeCompiler Check, valid",
      fn: () => workflowInputTypeBox.Check(CONTRACT_WORKFLOW),
      check: (r) => r === true,
    },
    { group: request, name: "trigger body: Check, valid", fn: () => triggerInput.Check(TRIGGER_BODY), check: (r) => r === true },
    { group: request, name: "path id: isUuid", fn: () => isUuid(anyId()), check: (r) => r === true },

    { group: response, name: "workflow: Check", fn: () => workflowResponse.Check(WORKFLOW), check: (r) => r === true },
    { group: response, name: "page of 50 runs: Check", fn: () => runPageResponse.Check(PAGE), check: (r) => r === true },

    { group: json, name: "workflow: JSON.stringify", fn: () => JSON.stringify(WORKFLOW), check: isString },
    { group: json, name: "page of 50 runs: JSON.stringify", fn: () => JSON.stringify(PAGE), check: isString },
    {
      group: json,
      name: "page of 50 runs: rows to page + JSON.stringify",
      fn: () => JSON.stringify(toPage(ROWS, 50, codec, RUNS_SCOPE, toRun)),
      check: (r) => isString(r) && (r as string).includes('"next_cursor":"'),
    },
    { group: json, name: "run: JSON.stringify", fn: () => JSON.stringify(RUN), check: isString },

    { group: cursor, name: "encode", fn: () => codec.encode(POSITION, RUNS_SCOPE), check: (r) => r === CURSOR },
    {
      group: cursor,
      name: "decode, valid",
      fn: () => codec.decode(CURSOR, RUNS_SCOPE),
      check: (r) => (r as { id?: string } | null)?.id === WORKFLOW.id,
    },
    { group: cursor, name: "decode, tampered", fn: () => codec.decode(TAMPERED, RUNS_SCOPE), check: (r) => r === null },

    {
      group: template,
      name: "renderDeep: the contract's 4 step configs",
      fn: () => renderDeep(CONFIGS, SCOPE),
      check: (r) => JSON.stringify(r).includes('"url":"http://example.test/orders/A-1042"') && JSON.stringify(r).includes('"status":200'),
    },

    {
      group: definition,
      name: "validateDefinition: the contract's workflow",
      fn: () => validateDefinition(CONTRACT_WORKFLOW),
      check: isArray(0),
    },
    {
      group: definition,
      name: "validateDefinition: 3 steps with 5 problems",
      fn: () => validateDefinition(INVALID_DEFINITION),
      check: isArray(5),
    },

    // A template string: JavaScriptCore builds it lazily (a rope), so this is close to free.
    {
      group: keys,
      name: "cacheKeys.workflow",
      fn: () => cacheKeys.workflow(anyId()),
      check: (r) => typeof r === "string" && r.startsWith("wf:workflow:") && r.length === 48,
    },
    {
      group: keys,
      name: "cacheKeys.run",
      fn: () => cacheKeys.run(anyId()),
      check: (r) => typeof r === "string" && r.startsWith("wf:run:") && r.length === 43,
    },

    { group: ids, name: "newId (uuid v7, the service's)", fn: () => newId(), check: (r) => typeof r === "string" && r[14] === "7" },
    {
      group: ids,
      name: "Bun.randomUUIDv7 (reference)",
      fn: () => Bun.randomUUIDv7(),
      check: (r) => typeof r === "string" && r[14] === "7",
    },

    { group: resilience, name: "await an answered call (reference)", fn: () => answered(), check: (r) => r === ROWS.length },
    { group: resilience, name: "breaker.run, no time bound", fn: () => UNBOUNDED.run(answered), check: (r) => r === ROWS.length },
    { group: resilience, name: "breaker.run, 5 s time bound", fn: () => BOUNDED.run(answered), check: (r) => r === ROWS.length },

    {
      group: kafka,
      name: "group a send of 2,000 messages by partition",
      fn: groupBurst,
      check: (r) => Object.values(r as Record<string, unknown[]>).reduce((n, l) => n + l.length, 0) === BURST.length,
    },
  ];
}
