import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { Keyring, parseKeys } from "@wf/platform/secrets";
import { openWebhookSecret, rotateWebhookSecrets, type StoredWebhookSecret, WebhookStore } from "@wf/services/webhooks";
import { Webhook } from "standardwebhooks";
import { call, createWorkflow, startApi, type TestApi, triggerRun, unique, waitFor } from "../support/api.ts";
import { groupEnv, startWorkers, type WorkerGroup } from "../support/workers.ts";

// Webhook signing secrets at rest (Bun API only): sealed with the secrets' keyring (AES-256-GCM,
// a key id per value), opened only by the workers' dispatcher to sign, re-sealed by a rotation;
// a row stored in clear before migration 018 keeps working until the rotation seals it.

const K1 = `whk1:${randomBytes(32).toString("base64")}`;
const K2 = `whk2:${randomBytes(32).toString("base64")}`;
const parsed = parseKeys(`${K1},${K2}`);
if (!parsed.ok) throw new Error(parsed.problem);
const keys = parsed.keys;

/** Per tag, the requests received, with their headers and body as sent. */
const got = new Map<string, Array<{ headers: Record<string, string>; body: string }>>();
const receiver = Bun.serve({
  hostname: "127.0.0.2",
  port: 0,
  async fetch(req) {
    const tag = new URL(req.url).pathname.split("/")[2] ?? "";
    got.set(tag, [...(got.get(tag) ?? []), { headers: Object.fromEntries(req.headers), body: await req.text() }]);
    return new Response("ok");
  },
});
const hookUrl = (tag: string) => `http://127.0.0.2:${receiver.port}/hook/${tag}`;

let api: TestApi;
let workers: WorkerGroup;
beforeAll(async () => {
  api = await startApi({ egressAllow: ["127.0.0.2"], secretsKeys: `${K1},${K2}`, secretsActiveKey: "whk1" });
  workers = startWorkers(1, {
    ...groupEnv(api.config.runsTopic, unique("webhook-secrets")),
    EGRESS_ALLOW: "127.0.0.2",
    SECRETS_KEYS: `${K1},${K2}`,
    SECRETS_ACTIVE_KEY: "whk1",
    WEBHOOK_POLL_MS: "50",
  });
});
afterAll(async () => {
  await workers?.stopAll("SIGKILL");
  if (api)
    await api.services.sql`
    WITH w AS (DELETE FROM webhooks WHERE topic = ${api.config.runsTopic} RETURNING id)
    DELETE FROM webhook_deliveries WHERE webhook_id IN (SELECT id FROM w)`;
  await api?.stop();
  receiver.stop(true);
});

type Row = StoredWebhookSecret & { id: string; whole: string };
const row = async (id: string) =>
  (
    await api.services.sql<Row[]>`
    SELECT id, secret, secret_key_id, secret_nonce, secret_ciphertext, row_to_json(w)::text AS whole FROM webhooks w WHERE id = ${id}::uuid`
  )[0]!;

const okWorkflow = () =>
  createWorkflow(api.url, { name: unique("sealed-hook"), steps: [{ name: "s", type: "transform", config: { output: 1 } }] });

/** Triggers a run of the workflow and waits for its delivery to `tag`, verified with `secret`. */
const deliveredWith = async (workflowId: string, tag: string, secret: string) => {
  const runId = await triggerRun(api.url, { workflow_id: workflowId });
  const verified = (g: { headers: Record<string, string>; body: string }) =>
    new Webhook(secret).verify(g.body, g.headers) as { data: { id: string } };
  await waitFor(
    `run ${runId} delivered to ${tag}`,
    async () => (got.get(tag) ?? []).some((g) => verified(g).data.id === runId),
    20_000,
    25,
  );
};

describe("a webhook's signing secret at rest", () => {
  test("is stored sealed under the active key, not in clear; it opens for its own webhook only", async () => {
    const wf = await okWorkflow();
    const r = await call(api.url, "POST", "/api/v1/webhooks", { url: hookUrl("sealed"), events: ["run.completed"], workflow_id: wf });
    expect(r.status).toBe(201);
    const { id, secret } = r.body as { id: string; secret: string };
    const stored = await row(id);
    expect({ secret: stored.secret, key_id: stored.secret_key_id, nonce: stored.secret_nonce?.byteLength }).toEqual({
      secret: null,
      key_id: "whk1",
      nonce: 12,
    });
    // Neither the secret nor its key bytes, in any encoding the row's JSON could show.
    const raw = Buffer.from(secret.slice("whsec_".length), "base64");
    for (const form of [secret, secret.slice("whsec_".length), raw.toString("hex")]) expect(stored.whole).not.toContain(form);

    const keyring = new Keyring(keys, "whk1");
    expect(openWebhookSecret(keyring, id, stored)).toBe(secret);
    // Bound to its webhook: the same ciphertext read as another webhook's does not open.
    expect(() => openWebhookSecret(keyring, crypto.randomUUID(), stored)).toThrow();
    // Without its key, it does not open at all.
    expect(() => openWebhookSecret(new Keyring([keys[1]!], "whk2"), id, stored)).toThrow("which SECRETS_KEYS does not hold");

    // The workers open it to sign: the delivery verifies with the secret shown at creation.
    await deliveredWith(wf, "sealed", secret);
  });

  test("a row in clear (stored before migration 018) is still delivered; the rotation seals it and re-seals the others under the new key", async () => {
    const wf = await okWorkflow();
    const created = await call(api.url, "POST", "/api/v1/webhooks", {
      url: hookUrl("rot-sealed"),
      events: ["run.completed"],
      workflow_id: wf,
    });
    expect(created.status).toBe(201);
    const sealed = created.body as { id: string; secret: string };
    const legacy = { id: crypto.randomUUID(), secret: `whsec_${randomBytes(32).toString("base64")}` };
    await api.services.sql`
      INSERT INTO webhooks (id, url, events, workflow_id, secret, topic, created_at)
      VALUES (${legacy.id}::uuid, ${hookUrl("rot-legacy")}, '{run.completed}', ${wf}::uuid, ${legacy.secret}, ${api.config.runsTopic}, now())`;
    await deliveredWith(wf, "rot-legacy", legacy.secret);

    const result = await rotateWebhookSecrets(new WebhookStore(api.services.sql), new Keyring(keys, "whk2"), {
      topic: api.config.runsTopic,
    });
    expect(result.unreadable).toEqual([]);
    expect(Object.fromEntries(result.byKey)).toEqual({ whk2: expect.any(Number) });
    for (const id of [sealed.id, legacy.id]) {
      const r = await row(id);
      expect({ id, secret: r.secret, key_id: r.secret_key_id }).toEqual({ id, secret: null, key_id: "whk2" });
    }
    expect((await row(legacy.id)).whole).not.toContain(legacy.secret.slice("whsec_".length));
    // Workers still on whk1 as active hold whk2 too: both keep signing with the same secrets.
    await deliveredWith(wf, "rot-sealed", sealed.secret);
    await deliveredWith(wf, "rot-legacy", legacy.secret);
    // A second pass has nothing left to do.
    const again = await rotateWebhookSecrets(new WebhookStore(api.services.sql), new Keyring(keys, "whk2"), {
      topic: api.config.runsTopic,
    });
    expect(again.resealed).toBe(0);
  });
});
