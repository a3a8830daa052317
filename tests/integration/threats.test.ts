import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { KeyStore } from "@wf/services/access";
import { call, createWorkflow, startApi, type TestApi, triggerRun, unique, waitFor } from "../support/api.ts";
import { groupEnv, startWorkers, type WorkerGroup } from "../support/workers.ts";

// Lines of docs/threat-model.md that no other test backs, through the API and real workers: what
// an outside server reached by an http step can do to a run with its answer (Bun API only).

/** The hostile server, on 127.0.0.2 (the workers' EGRESS_ALLOW); 127.0.0.3 stands for a refused inside address. */
let insideHits = 0;
const inside = Bun.serve({
  hostname: "127.0.0.3",
  port: 0,
  fetch: () => {
    insideHits++;
    return Response.json({ inside: true });
  },
});
const hostile = Bun.serve({
  hostname: "127.0.0.2",
  port: 0,
  fetch(req) {
    const path = new URL(req.url).pathname;
    const json = (text: string) => new Response(text, { headers: { "content-type": "application/json" } });
    if (path === "/redirect") return new Response(null, { status: 302, headers: { location: `http://127.0.0.3:${inside.port}/` } });
    // What PostgreSQL cannot store in jsonb: a NUL, an unpaired surrogate; in JSON, in text, in a header.
    if (path === "/nul-json") return json('{"a":"x\\u0000y"}');
    if (path === "/surrogate-json") return json('{"a":"\\ud800"}');
    if (path === "/nul-text") return new Response("x\u0000y");
    if (path === "/nul-key") return json('{"x\\u0000y": 1}');
    if (path === "/echo")
      return req.text().then((body) => {
        echoed.push(body);
        return Response.json({ ok: true });
      });
    if (path === "/deep") return json(`${"[".repeat(20_000)}${"]".repeat(20_000)}`);
    return new Response("?", { status: 404 });
  },
});
const echoed: string[] = [];
const at = (path: string) => `http://127.0.0.2:${hostile.port}${path}`;

const SECRET = `T_${randomBytes(4).toString("hex").toUpperCase()}_THREAT`;
let api: TestApi;
let workers: WorkerGroup;
beforeAll(async () => {
  api = await startApi({ egressAllow: ["127.0.0.2"] });
  workers = startWorkers(1, {
    ...groupEnv(api.config.runsTopic, unique("threats")),
    EGRESS_ALLOW: "127.0.0.2",
    RUN_LEASE_MS: "3000",
    RECONCILE_INTERVAL_MS: "1000",
    WEBHOOK_POLL_MS: "50",
  });
});
afterAll(async () => {
  await workers?.stopAll("SIGKILL");
  if (api) await api.services.sql`DELETE FROM secrets WHERE name = ${SECRET}`;
  if (api)
    await api.services.sql`
    WITH w AS (DELETE FROM webhooks WHERE topic = ${api.config.runsTopic} RETURNING id)
    DELETE FROM webhook_deliveries WHERE webhook_id IN (SELECT id FROM w)`;
  await api?.stop();
  hostile.stop(true);
  inside.stop(true);
});

type Run = {
  status: string;
  output: unknown;
  error: string | null;
  steps: { name: string; status: string; output?: unknown; error?: string }[];
};
const finished = (id: string, timeoutMs = 30_000) =>
  waitFor(
    `run ${id} to finish`,
    async () => {
      const r = await call<Run>(api.url, "GET", `/api/v1/runs/${id}`);
      return ["completed", "failed", "cancelled"].includes(r.body.status) ? r.body : undefined;
    },
    timeoutMs,
    100,
  );
const runOf = async (url: string) => {
  const wf = await createWorkflow(api.url, {
    name: unique("hostile"),
    steps: [{ name: "call", type: "http", config: { method: "GET", url }, retry: { max_attempts: 1, backoff_ms: 0 } }],
  });
  return finished(await triggerRun(api.url, { workflow_id: wf }));
};

describe("an outside server's answer, through a real worker", () => {
  test("a redirect to a refused address is not followed: the step records the 3xx, the address gets nothing", async () => {
    const run = await runOf(at("/redirect"));
    expect(run.status).toBe("completed");
    expect(run.steps[0]!.output).toMatchObject({ status: 302, headers: { location: `http://127.0.0.3:${inside.port}/` } });
    expect(insideHits).toBe(0);
  });

  test("what PostgreSQL cannot store (NUL, unpaired surrogates, in a body, a key or text) is stored as U+FFFD: the run completes", async () => {
    const bodies = await Promise.all(
      ["/nul-json", "/surrogate-json", "/nul-text", "/nul-key"].map(async (path) => {
        const run = await runOf(at(path));
        return { path, status: run.status, body: (run.steps[0]!.output as { body: unknown }).body };
      }),
    );
    expect(bodies).toEqual([
      { path: "/nul-json", status: "completed", body: { a: "x\ufffdy" } },
      { path: "/surrogate-json", status: "completed", body: { a: "\ufffd" } },
      { path: "/nul-text", status: "completed", body: "x\ufffdy" },
      { path: "/nul-key", status: "completed", body: { "x\ufffdy": 1 } },
    ]);
  });

  test("a JSON answer nested 20,000 deep is kept as its text (nothing walks it): the run completes, the worker lives", async () => {
    const run = await runOf(at("/deep"));
    expect(run.status).toBe("completed");
    const body = (run.steps[0]!.output as { body: unknown }).body;
    expect([typeof body, (body as string).length]).toEqual(["string", 40_000]);
    expect(workers.procs.every((p) => p.exitCode === null)).toBe(true);
  });

  test("a webhook receiver answering what PostgreSQL cannot store: the attempt is recorded, delivered", async () => {
    const wf = await createWorkflow(api.url, { name: unique("hooked"), steps: [{ name: "s", type: "transform", config: { output: 1 } }] });
    const hook = await call(api.url, "POST", "/api/v1/webhooks", { url: at("/nul-text"), events: ["run.completed"], workflow_id: wf });
    expect(hook.status).toBe(201);
    await finished(await triggerRun(api.url, { workflow_id: wf }));
    const delivery = await waitFor(
      "the delivery to be recorded",
      async () => {
        const r = await call<{ items: { status: string; attempts: { response_body: string | null }[] }[] }>(
          api.url,
          "GET",
          `/api/v1/webhooks/${hook.body.id}/deliveries`,
        );
        return r.body.items.find((d) => d.status !== "pending");
      },
      20_000,
    );
    expect(delivery).toMatchObject({ status: "delivered", attempts: [{ response_body: "x\ufffdy" }] });
  });
});

describe("what a key holder cannot do", () => {
  test("runs:write: an input that holds {{secrets.NAME}} is sent as that text, never rendered into the secret", async () => {
    const value = `v-${randomBytes(8).toString("hex")}`;
    expect((await call(api.url, "PUT", `/api/v1/secrets/${SECRET}`, { value })).status).toBe(204);
    const wf = await createWorkflow(api.url, {
      name: unique("input-secret"),
      steps: [
        {
          name: "send",
          type: "http",
          config: { method: "POST", url: at("/echo"), body: { from_input: "{{input.v}}", own: `{{secrets.${SECRET}}}` } },
        },
      ],
    });
    const run = await finished(await triggerRun(api.url, { workflow_id: wf, input: { v: `{{secrets.${SECRET}}}` } }));
    expect(run.status).toBe("completed");
    const sent = echoed.map((b) => JSON.parse(b)).find((b) => b.own === value);
    expect(sent).toEqual({ from_input: `{{secrets.${SECRET}}}`, own: value });
  });

  test("a key is stored as its SHA-256 digest only: the api_keys table holds no key", async () => {
    const name = unique("digest-only");
    const { key } = await new KeyStore(api.services.sql).create(name, ["runs:read"]);
    const [row] = await api.services.sql<{ whole: string; key_hash: string }[]>`
      SELECT row_to_json(k)::text AS whole, encode(key_hash, 'hex') AS key_hash FROM api_keys k WHERE name = ${name}`;
    expect(row!.whole).not.toContain(key);
    expect(row!.whole).not.toContain(key.slice(4, 24));
    expect(row!.key_hash).toBe(createHash("sha256").update(key).digest("hex"));
    await api.services.sql`DELETE FROM api_keys WHERE name = ${name}`;
  });
});
