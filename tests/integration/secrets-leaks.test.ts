import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { cacheKeys } from "@wf/platform/cache";
import type { Subprocess } from "bun";
import { call, createWorkflow, startApi, type TestApi, triggerRun, unique, waitFor } from "../support/api.ts";
import { startTarget } from "../support/target.ts";
import { groupEnv, workerEnv } from "../support/workers.ts";

// Where a secret's value must never be: an http step sends it to a real echo server that answers
// with everything it got (url, headers, body), and then nothing stored or emitted may hold it —
// the run in PostgreSQL, GET /runs/{id}, the Redis copy, the definition, the worker's log lines,
// the spans it exports to a real OTLP/HTTP receiver — while the server did receive it. Each value
// carries a random token: it must not appear anywhere, in whatever spelling.

const KEYS = `leaks:${randomBytes(32).toString("base64")}`;
const tag = randomBytes(4).toString("hex").toUpperCase();
const name = (what: string) => `L_${tag}_${what}`;
const TOKEN = name("TOKEN");
const BAD_URL = name("BAD_URL");
const ROTATING = name("ROTATING");

/** A value with a random core, and characters that a URL, a query, a form or JSON each spell their own way. */
const secretValue = () => {
  const core = randomBytes(12).toString("hex");
  return { core, value: `S3 ${core}/?&=+"\\x` };
};
const token = secretValue();
const badUrl = secretValue();
/** Every random core used in this file: none may appear anywhere but in the echo server's requests. */
const cores = [token.core, badUrl.core];
const leaked = (text: string) => cores.filter((c) => text.includes(c));

// A real OTLP/HTTP receiver: the worker's spans, as received.
const traces: string[] = [];
const collector = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    if (req.method === "POST" && new URL(req.url).pathname === "/v1/traces") traces.push(await req.text());
    return Response.json({});
  },
});

const target = startTarget();
let api: TestApi;
let worker: Subprocess<"ignore", "pipe", "pipe">;
/** Everything the worker writes, stdout and stderr. */
const workerOutput: string[] = [];
const startedAt = new Date();

beforeAll(async () => {
  api = await startApi({ secretsKeys: KEYS });
  for (const [n, v] of [
    [TOKEN, token.value],
    [BAD_URL, `http://[${badUrl.value}/`],
    [ROTATING, "first"],
  ])
    expect((await call(api.url, "PUT", `/api/v1/secrets/${n}`, { value: v })).status).toBe(204);
  worker = Bun.spawn([process.execPath, join(import.meta.dir, "../../worker/src/process.ts")], {
    env: workerEnv({
      ...groupEnv(api.config.runsTopic, unique("workers-secrets")),
      EGRESS_ALLOW: "127.0.0.2",
      SECRETS_KEYS: KEYS,
      // Every line the worker can write, retries' included.
      LOG_LEVEL: "debug",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}`,
      OTEL_SERVICE_NAME: "wf-secrets-worker",
    }),
    stdout: "pipe",
    stderr: "pipe",
  });
  const decoder = new TextDecoder();
  for (const stream of [worker.stdout, worker.stderr])
    void (async () => {
      for await (const chunk of stream) workerOutput.push(decoder.decode(chunk));
    })();
});
afterAll(async () => {
  if (worker && worker.exitCode === null) {
    worker.kill("SIGKILL");
    await worker.exited;
  }
  await api.services.sql`DELETE FROM secrets WHERE name = ANY(${`{${[TOKEN, BAD_URL, ROTATING].join(",")}}`}::text[])`;
  await api.stop();
  target.stop();
  collector.stop(true);
});

const runs: string[] = [];
async function finishedRun(workflowId: string) {
  const id = await triggerRun(api.url, { workflow_id: workflowId, input: {} });
  runs.push(id);
  return waitFor(
    `run ${id} to finish`,
    async () => {
      const r = await call(api.url, "GET", `/api/v1/runs/${id}`);
      return ["completed", "failed"].includes(r.body.status) ? r.body : undefined;
    },
    60_000,
  );
}

const echoUrl = `${target.url}/echo`;
const ref = (n: string) => `{{secrets.${n}}}`;

describe("a secret sent by an http step", () => {
  let sent: Awaited<ReturnType<typeof finishedRun>>;
  let failed: Awaited<ReturnType<typeof finishedRun>>;
  let invalid: Awaited<ReturnType<typeof finishedRun>>;
  const workflows: string[] = [];

  beforeAll(async () => {
    const echoing = await createWorkflow(api.url, {
      name: unique("secret-echo"),
      steps: [
        {
          name: "call",
          type: "http",
          config: {
            method: "POST",
            url: `${echoUrl}?token=${ref(TOKEN)}`,
            headers: { authorization: `Bearer ${ref(TOKEN)}`, "x-token": ref(TOKEN) },
            body: { token: ref(TOKEN), nested: [`before ${ref(TOKEN)} after`] },
          },
        },
        {
          name: "copy",
          type: "transform",
          config: { output: { echoed: "{{steps.call.body}}", header: "{{steps.call.headers.x-echo-url}}" } },
        },
        { name: "note", type: "log", config: { message: "echoed {{steps.call.body.url}} {{steps.call.body.headers.x-token}}" } },
      ],
    });
    // The answer is a 500 that echoes it all: the step's error output, and each retry's debug line.
    const failing = await createWorkflow(api.url, {
      name: unique("secret-echo-500"),
      steps: [
        {
          name: "call",
          type: "http",
          config: { method: "PUT", url: `${echoUrl}?status=500&token=${ref(TOKEN)}`, headers: { "x-token": ref(TOKEN) }, body: ref(TOKEN) },
          retry: { max_attempts: 2, backoff_ms: 10 },
        },
      ],
    });
    // The value makes the url invalid: the error that names the url.
    const badUrlFlow = await createWorkflow(api.url, {
      name: unique("secret-bad-url"),
      steps: [{ name: "call", type: "http", config: { method: "GET", url: ref(BAD_URL) } }],
    });
    workflows.push(echoing, failing, badUrlFlow);
    sent = await finishedRun(echoing);
    failed = await finishedRun(failing);
    invalid = await finishedRun(badUrlFlow);
  });

  test("the echo server received the value itself, in the url, the headers and the body", () => {
    const got = target.received.filter((r) => r.headers["x-token"] === token.value);
    expect(got.length).toBe(3); // one POST, two attempts of the PUT
    const post = got.find((r) => r.method === "POST")!;
    expect(post.headers.authorization).toBe(`Bearer ${token.value}`);
    expect(JSON.parse(post.body)).toEqual({ token: token.value, nested: [`before ${token.value} after`] });
    expect(post.url).toBe(`/echo${new URL(`http://h/?token=${token.value}`).search}`);
    expect(got.filter((r) => r.method === "PUT").map((r) => r.body)).toEqual([token.value, token.value]);
  });

  test("the run holds [redacted] wherever the answer echoed it: output, step output and error", () => {
    expect(sent.status).toBe("completed");
    const call_ = sent.steps.find((s: { name: string }) => s.name === "call");
    expect(call_.output.body.headers.authorization).toBe("Bearer [redacted]");
    expect(call_.output.body.headers["x-token"]).toBe("[redacted]");
    expect(call_.output.body.url).toBe("/echo?token=[redacted]");
    expect(call_.output.headers["x-echo-url"]).toBe("/echo?token=[redacted]");
    expect(JSON.parse(call_.output.body.body)).toEqual({ token: "[redacted]", nested: ["before [redacted] after"] });
    const copy = sent.steps.find((s: { name: string }) => s.name === "copy");
    expect(copy.output.echoed.headers.authorization).toBe("Bearer [redacted]");
    expect(copy.output.header).toBe("/echo?token=[redacted]");
    // A v1 list: the run's output is its last step's.
    expect(sent.output).toEqual({ message: "echoed /echo?token=[redacted] [redacted]", level: "info" });

    expect(failed.status).toBe("failed");
    const step = failed.steps[0];
    expect(step).toMatchObject({ status: "failed", attempts: 2, error: `HTTP 500 from ${new URL(target.url).host}` });
    expect(step.output.body).toMatchObject({ url: "/echo?status=500&token=[redacted]", body: "[redacted]" });

    expect(invalid.status).toBe("failed");
    expect(invalid.steps[0].error).toBe('url "[redacted]" is not a valid URL once rendered');
    expect(invalid.error).toBe('step "call" failed after 1 attempt(s): url "[redacted]" is not a valid URL once rendered');
  });

  test("GET /runs/{id}, the run's row and every other table, and the Redis copy hold no value", async () => {
    for (const run of [sent, failed, invalid]) {
      const answer = await fetch(`${api.url}/api/v1/runs/${run.id}`);
      const text = await answer.text();
      expect(text).toContain("[redacted]");
      expect(leaked(text)).toEqual([]);
      // The worker wrote the terminal state through to Redis.
      const cached = await api.services.cache.get(cacheKeys.run(run.id));
      expect(cached).not.toBeNull();
      expect(cached!).toContain("[redacted]");
      expect(leaked(cached!)).toEqual([]);
    }
    // Every row of every table of the schema (the runs table: the rows written since this file started).
    const tables = await api.services.sql<{ name: string }[]>`
      SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`;
    expect(tables.map((t) => t.name)).toContain("runs");
    for (const { name: table } of tables)
      for (const core of cores) {
        const since = table === "runs" ? api.services.sql`AND t.created_at >= ${startedAt}` : api.services.sql``;
        const [hit] = await api.services.sql<{ n: number }[]>`
          SELECT count(*)::int AS n FROM ${api.services.sql(table)} t WHERE t::text LIKE ${`%${core}%`} ${since}`;
        expect({ table, rows: hit!.n }).toEqual({ table, rows: 0 });
      }
  });

  test("the definitions, from GET /workflows and from PostgreSQL, keep the reference, not the value", async () => {
    for (const id of workflows) {
      const one = await fetch(`${api.url}/api/v1/workflows/${id}`).then((r) => r.text());
      expect(one).toContain("{{secrets.");
      expect(leaked(one)).toEqual([]);
      const cached = await api.services.cache.get(cacheKeys.workflow(id));
      if (cached) expect(leaked(cached)).toEqual([]);
    }
    const list = await fetch(`${api.url}/api/v1/workflows?limit=200`).then((r) => r.text());
    expect(list).toContain(`{{secrets.${TOKEN}}}`);
    expect(leaked(list)).toEqual([]);
  });

  test("a value updated between two runs is what the next run sends (workers cache no value)", async () => {
    const id = await createWorkflow(api.url, {
      name: unique("secret-rotating"),
      steps: [
        { name: "call", type: "http", config: { method: "GET", url: `${echoUrl}?rotating=1`, headers: { "x-rotating": ref(ROTATING) } } },
      ],
    });
    const received = () => target.received.filter((r) => r.url === "/echo?rotating=1").map((r) => r.headers["x-rotating"]);
    expect((await finishedRun(id)).status).toBe("completed");
    expect(received()).toEqual(["first"]);
    expect((await call(api.url, "PUT", `/api/v1/secrets/${ROTATING}`, { value: "second" })).status).toBe(204);
    const second = await finishedRun(id);
    expect(second.status).toBe("completed");
    expect(received()).toEqual(["first", "second"]);
    expect(second.steps[0].output.body.headers["x-rotating"]).toBe("[redacted]");
  });

  test("a deleted secret fails the step that reads it, naming it, without a retry", async () => {
    const gone = name("GONE");
    expect((await call(api.url, "PUT", `/api/v1/secrets/${gone}`, { value: "short-lived" })).status).toBe(204);
    const id = await createWorkflow(api.url, {
      name: unique("secret-gone"),
      steps: [
        {
          name: "call",
          type: "http",
          config: { method: "GET", url: echoUrl, headers: { "x-gone": ref(gone) } },
          retry: { max_attempts: 3, backoff_ms: 10 },
        },
      ],
    });
    expect((await call(api.url, "DELETE", `/api/v1/secrets/${gone}`)).status).toBe(204);
    const run = await finishedRun(id);
    expect(run.status).toBe("failed");
    expect(run.steps[0]).toMatchObject({ status: "failed", attempts: 1, error: `secret ${gone} does not exist` });
  });

  test("the worker's spans, received by a real OTLP/HTTP receiver, hold no value", async () => {
    // The failed steps' spans carry their (redacted) errors as the status message.
    await waitFor("the worker's step spans", async () => traces.join("\n").includes("is not a valid URL once rendered"), 30_000);
    const all = traces.join("\n");
    expect(all).toContain("step call");
    expect(all).toContain('url \\"[redacted]\\" is not a valid URL once rendered');
    expect(leaked(all)).toEqual([]);
  });

  test("the worker's log lines, every level, hold no value", async () => {
    worker.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    // Give the pipes a moment to be read to their end.
    await Bun.sleep(200);
    const log = workerOutput.join("");
    expect(log).toContain("echoed /echo?token=[redacted] [redacted]");
    expect(log).toContain("step attempt failed; retrying");
    expect(log).toContain("worker stopped");
    expect(leaked(log)).toEqual([]);
  });
});
