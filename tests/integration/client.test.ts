import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "@wf/client";
import { KeyStore } from "@wf/services/access";
import { startApi, type TestApi, unique, waitFor } from "../support/api.ts";

// The typed client (@wf/client, Eden Treaty over the API's own type) against the real API: the
// calls below are type-checked against the routes' schemas, and must also work on the wire.
let api: TestApi;
let keys: KeyStore;
const keyName = unique("client");
let key: string;
beforeAll(async () => {
  api = await startApi({ apiKeysRequired: true, apiKeysRefreshMs: 200 });
  keys = new KeyStore(api.services.sql);
  key = (await keys.create(keyName, ["admin"])).key;
  const probe = createClient(api.url, { apiKey: key });
  await waitFor(
    "the new key to be accepted",
    async () => (await probe.api.v1.runs.get({ query: { limit: 1 } })).status === 200,
    15_000,
    50,
  );
});
afterAll(async () => {
  await keys.revoke(keyName).catch(() => {});
  await api.stop();
});

describe("@wf/client", () => {
  test("creates a workflow, triggers it and reads the run back, typed end to end", async () => {
    const client = createClient(api.url, { apiKey: () => key });
    const created = await client.api.v1.workflows.post({
      name: unique("client-wf"),
      steps: [{ name: "only", type: "transform", config: { output: { ok: true } } }],
    });
    expect(created.status).toBe(201);
    const workflowId = created.data!.id;
    expect((await client.api.v1.workflows({ id: workflowId }).get()).data?.name).toStartWith("client-wf");

    const triggered = await client.api.v1.trigger.post({ workflow_id: workflowId, input: { n: 1 } });
    expect(triggered.status).toBe(202);
    expect(triggered.data?.status).toBe("pending");
    const runId = triggered.data!.run_id;
    const run = await client.api.v1.runs({ id: runId }).get();
    expect(run.data).toMatchObject({ id: runId, workflow_id: workflowId, input: { n: 1 } });

    const page = await client.api.v1.runs.get({ query: { workflow_id: workflowId, status: "pending,running", limit: 10 } });
    expect(page.data?.items.map((r) => r.id)).toContain(runId);

    const cancelled = await client.api.v1.runs({ id: runId }).cancel.post();
    expect(cancelled.data?.status).toBe("cancelled");
  });

  test("a problem is the typed error value, and no key is a 401", async () => {
    const client = createClient(api.url, { apiKey: key });
    const missing = await client.api.v1.runs({ id: crypto.randomUUID() }).get();
    expect(missing.data).toBeNull();
    // typed by status from the route's declared problems: 404, 401, 403, 429, 503
    expect(missing.error?.status).toBe(404);
    expect(missing.error?.value).toMatchObject({ status: 404 });

    const anonymous = await createClient(api.url).api.v1.runs.get({ query: {} });
    expect(anonymous.status).toBe(401);
  });
});
