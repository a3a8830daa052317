import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { ConfigError, loadConfig } from "@wf/platform/config";
import { Keyring, keyringFromConfig, parseKeys } from "@wf/platform/secrets";
import { KeyStore } from "@wf/services/access";
import { rotateSecrets, SecretReader, SecretStore } from "@wf/services/secrets";
import { type Answer, call, createWorkflow, startApi, type TestApi, waitFor } from "../support/api.ts";

// Secrets (Version 2, Bun API only): PUT/GET/DELETE /api/v1/secrets, sealed at rest with
// AES-256-GCM under configured keys, `{{secrets.NAME}}` checked where a workflow is stored, the
// keys' configuration, and the rotation. What a run does with a secret: secrets-leaks.test.ts.

const key = (id: string) => `${id}:${randomBytes(32).toString("base64")}`;
const K1 = key("k1");
const K2 = key("k2");
/** Names of this run of the file only: the table is shared with whatever else uses the database. */
const tag = randomBytes(4).toString("hex").toUpperCase();
const secretName = (what: string) => `T_${tag}_${what}`;

let api: TestApi;
const created: string[] = [];
beforeAll(async () => {
  api = await startApi({ secretsKeys: K1 });
});
afterAll(async () => {
  await api.services.sql`DELETE FROM secrets WHERE name = ANY(${`{${created.join(",")}}`}::text[])`;
  await api.stop();
});

const put = (name: string, body: unknown, headers?: Record<string, string>) => {
  if (!created.includes(name)) created.push(name);
  return call(api.url, "PUT", `/api/v1/secrets/${name}`, body, headers);
};
type Row = { name: string; key_id: string; nonce: Buffer; ciphertext: Buffer; created_at: Date; updated_at: Date };
const row = async (name: string) =>
  (await api.services.sql<Row[]>`SELECT name, key_id, nonce, ciphertext, created_at, updated_at FROM secrets WHERE name = ${name}`)[0];
/** Every page of GET /api/v1/secrets. */
const listAll = async (headers?: Record<string, string>) => {
  const items: Array<Record<string, string>> = [];
  let cursor: string | null = null;
  do {
    const r: Answer<{ items: Array<Record<string, string>>; next_cursor: string | null }> = await call(
      api.url,
      "GET",
      `/api/v1/secrets?limit=200${cursor ? `&cursor=${cursor}` : ""}`,
      undefined,
      headers,
    );
    expect(r.status).toBe(200);
    items.push(...r.body.items);
    cursor = r.body.next_cursor;
  } while (cursor);
  return items;
};

describe("PUT, GET and DELETE /api/v1/secrets", () => {
  test("PUT stores the value sealed (204); GET lists name, key id and times, never the value", async () => {
    const name = secretName("API_TOKEN");
    const value = `tok-${randomBytes(12).toString("hex")}`;
    const r = await put(name, { value });
    expect(r.status).toBe(204);
    expect(r.body).toBe("");

    const stored = (await row(name))!;
    expect(stored.key_id).toBe("k1");
    expect(stored.nonce.length).toBe(12);
    // ciphertext and its 16-byte tag: as long as the value plus 16, and not the value
    expect(stored.ciphertext.length).toBe(Buffer.byteLength(value) + 16);
    const raw = JSON.stringify(await api.services.sql`SELECT * FROM secrets WHERE name = ${name}`);
    expect(raw).not.toContain(value);
    expect(Buffer.concat([stored.nonce, stored.ciphertext]).includes(Buffer.from(value))).toBe(false);

    const listed = await listAll();
    const mine = listed.find((s) => s.name === name);
    expect(mine).toEqual({ name, key_id: "k1", created_at: stored.created_at.toISOString(), updated_at: stored.updated_at.toISOString() });
    expect(JSON.stringify(listed)).not.toContain(value);
  });

  test("each value gets its own nonce; a PUT of the same name replaces the value and keeps created_at", async () => {
    const name = secretName("REPLACED");
    expect((await put(name, { value: "same value" })).status).toBe(204);
    const first = (await row(name))!;
    await Bun.sleep(5);
    expect((await put(name, { value: "same value" })).status).toBe(204);
    const second = (await row(name))!;
    expect(second.nonce.equals(first.nonce)).toBe(false);
    expect(second.ciphertext.equals(first.ciphertext)).toBe(false);
    expect(second.created_at).toEqual(first.created_at);
    expect(second.updated_at.getTime()).toBeGreaterThan(first.updated_at.getTime());
    const reader = new SecretReader(
      new SecretStore(api.services.sql),
      keyringFromConfig(api.config, () => {}),
    );
    expect(await reader.read([name])).toEqual(new Map([[name, "same value"]]));
  });

  test("a sealed value opens only under its own name: a ciphertext moved to another name fails", async () => {
    const [a, b] = [secretName("MOVE_A"), secretName("MOVE_B")];
    expect((await put(a, { value: "value of a" })).status).toBe(204);
    expect((await put(b, { value: "value of b" })).status).toBe(204);
    await api.services.sql`
      UPDATE secrets SET nonce = src.nonce, ciphertext = src.ciphertext, key_id = src.key_id
      FROM (SELECT nonce, ciphertext, key_id FROM secrets WHERE name = ${a}) src WHERE name = ${b}`;
    const reader = new SecretReader(
      new SecretStore(api.services.sql),
      keyringFromConfig(api.config, () => {}),
    );
    expect(await reader.read([a])).toEqual(new Map([[a, "value of a"]]));
    await expect(reader.read([b])).rejects.toThrow();
    await api.services.sql`DELETE FROM secrets WHERE name = ${b}`;
  });

  test("a name outside ^[A-Z][A-Z0-9_]{0,63}$ is a 422, and nothing is stored", async () => {
    for (const bad of ["lower", "1DIGIT", "_UNDER", `A${"B".repeat(64)}`, "WITH-DASH", "%C3%89T%C3%89"]) {
      const r = await call(api.url, "PUT", `/api/v1/secrets/${bad}`, { value: "v" });
      expect({ bad, status: r.status }).toEqual({ bad, status: 422 });
      expect(r.headers.get("content-type")).toContain("application/problem+json");
    }
    expect((await put(`T${tag}${"B".repeat(55)}`, { value: "v" })).status).toBe(204);
  });

  test("an empty, oversized, non-string or missing value, or another field, is a 422", async () => {
    const name = secretName("BAD_VALUE");
    for (const body of [
      { value: "" },
      { value: "x".repeat(16_385) },
      // 16,384 characters but more bytes of UTF-8
      { value: "é".repeat(8_193) },
      { value: 42 },
      {},
      { value: "v", extra: true },
    ]) {
      const r = await put(name, body);
      expect({ body: JSON.stringify(body).slice(0, 40), status: r.status }).toEqual({
        body: JSON.stringify(body).slice(0, 40),
        status: 422,
      });
    }
    expect(await row(name)).toBeUndefined();
    expect((await put(name, { value: "x".repeat(16_384) })).status).toBe(204);
  });

  test("DELETE removes it (204); an unknown name is a 404, a malformed one a 422", async () => {
    const name = secretName("GONE");
    expect((await put(name, { value: "v" })).status).toBe(204);
    expect((await call(api.url, "DELETE", `/api/v1/secrets/${name}`)).status).toBe(204);
    expect(await row(name)).toBeUndefined();
    const again = await call(api.url, "DELETE", `/api/v1/secrets/${name}`);
    expect(again.status).toBe(404);
    expect(again.body.detail).toBe(`secret ${name} does not exist`);
    expect((await listAll()).some((s) => s.name === name)).toBe(false);
    // A name no secret can have is told as on PUT.
    const bad = await call(api.url, "DELETE", "/api/v1/secrets/lower_case");
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toEqual([{ path: "name", message: expect.stringContaining("a secret name matches") }]);
  });

  test("the list pages newest first with a signed cursor", async () => {
    const names = [secretName("PAGE_1"), secretName("PAGE_2"), secretName("PAGE_3")];
    for (const n of names) expect((await put(n, { value: n })).status).toBe(204);
    const first = await call(api.url, "GET", "/api/v1/secrets?limit=2");
    expect(first.status).toBe(200);
    expect(first.body.items.map((s: { name: string }) => s.name)).toEqual([names[2], names[1]]);
    const next = await call(api.url, "GET", `/api/v1/secrets?limit=1&cursor=${first.body.next_cursor}`);
    expect(next.body.items.map((s: { name: string }) => s.name)).toEqual([names[0]]);
    expect((await call(api.url, "GET", `/api/v1/secrets?cursor=${first.body.next_cursor.slice(0, -2)}xx`)).status).toBe(400);
  });
});

describe("{{secrets.NAME}} in a workflow", () => {
  const known = secretName("KNOWN");
  beforeAll(async () => {
    expect((await put(known, { value: "known-value" })).status).toBe(204);
  });
  const http = (config: Record<string, unknown>) => ({
    name: "call",
    type: "http",
    config: { method: "POST", url: "http://example.test/", ...config },
  });
  const create = (steps: unknown[], extra: Record<string, unknown> = {}) =>
    call(api.url, "POST", "/api/v1/workflows", { name: `secrets-${tag}`, steps, ...extra });

  test("in an http step's url, headers and body it is accepted, and the definition keeps the reference", async () => {
    const ref = `{{secrets.${known}}}`;
    const id = await createWorkflow(api.url, {
      name: `secrets-${tag}`,
      steps: [http({ url: `http://example.test/?k=${ref}`, headers: { authorization: `Bearer ${ref}` }, body: { nested: [ref] } })],
    });
    const got = await call(api.url, "GET", `/api/v1/workflows/${id}`);
    expect(got.body.steps[0].config).toEqual({
      method: "POST",
      url: `http://example.test/?k=${ref}`,
      headers: { authorization: `Bearer ${ref}` },
      body: { nested: [ref] },
    });
    expect(JSON.stringify(got.body)).not.toContain("known-value");
  });

  test("anywhere else it is a 422 naming the path", async () => {
    const ref = `{{secrets.${known}}}`;
    const message = `${ref}: a secret may be read only in an http step's url, headers or body`;
    const cases: Array<[unknown[], Record<string, unknown>, string, string?]> = [
      [[{ name: "t", type: "transform", config: { output: { a: ref } } }], {}, "/steps/0/config/output/a"],
      [[{ name: "l", type: "log", config: { message: `token ${ref}` } }], {}, "/steps/0/config/message"],
      [
        [{ name: "w", type: "workflow", config: { workflow_id: "0190a0a0-0000-7000-8000-000000000000", input: { t: ref } } }],
        {},
        "/steps/0/config/input/t",
      ],
      [[http({ timeout_ms: ref })], {}, "/steps/0/config/timeout_ms"],
      [[http({ method: ref })], {}, "/steps/0/config/method"],
      [
        [{ name: "a", type: "transform", config: { output: 1 } }],
        { concurrency: { limit: 1, key: ref } },
        "/concurrency/key",
        `${ref}: a concurrency key may read only the run's input ({{input.<path>}})`,
      ],
    ];
    for (const [steps, extra, path, expected] of cases) {
      const r = await create(steps, extra);
      expect({ path, status: r.status }).toEqual({ path, status: 422 });
      expect(r.body.errors).toContainEqual({ path, message: expected ?? message });
    }
    // In an `if` or `for_each`, CEL knows no `secrets`.
    const cel = await create([{ ...http({}), if: `secrets.${known} == "x"` }]);
    expect(cel.status).toBe(422);
    expect(cel.body.errors[0].path).toBe("/steps/0/if");
  });

  test("a malformed secret placeholder is a 422 saying what a secret name is", async () => {
    const r = await create([http({ headers: { a: "{{secrets.lower}}", b: "{{secrets}}", c: "{{secrets.A.B}}" } })]);
    expect(r.status).toBe(422);
    expect(r.body.errors).toEqual(
      ["a", "b", "c"].map((h) => ({
        path: `/steps/0/config/headers/${h}`,
        message: expect.stringContaining("must read secrets.<NAME>, NAME matching ^[A-Z][A-Z0-9_]{0,63}$"),
      })),
    );
  });

  test("an unknown secret is a 422 at create and at replace, naming each path", async () => {
    const missing = secretName("MISSING");
    const steps = [
      http({ url: `http://example.test/{{secrets.${missing}}}`, headers: { k: `{{secrets.${known}}}`, m: `{{secrets.${missing}}}` } }),
    ];
    const r = await create(steps);
    expect(r.status).toBe(422);
    expect(r.body.errors).toEqual([
      { path: "/steps/0/config/url", message: `no secret ${missing}` },
      { path: "/steps/0/config/headers/m", message: `no secret ${missing}` },
    ]);
    const id = await createWorkflow(api.url, { name: `secrets-${tag}`, steps: [http({})] });
    const replaced = await call(api.url, "PUT", `/api/v1/workflows/${id}`, { name: `secrets-${tag}`, steps });
    expect(replaced.status).toBe(422);
    expect(replaced.body.errors[0]).toEqual({ path: "/steps/0/config/url", message: `no secret ${missing}` });
    // Once it exists, the same definition is accepted.
    expect((await put(missing, { value: "now here" })).status).toBe(204);
    expect((await call(api.url, "PUT", `/api/v1/workflows/${id}`, { name: `secrets-${tag}`, steps })).status).toBe(200);
  });
});

describe("scopes", () => {
  test("PUT, GET and DELETE need secrets:write (or admin): a key without it gets a 403 naming it", async () => {
    const scoped = await startApi({ secretsKeys: K1, apiKeysRequired: true, apiKeysRefreshMs: 200 });
    const store = new KeyStore(scoped.services.sql);
    const names = [`secrets-ro-${tag}`, `secrets-rw-${tag}`, `secrets-admin-${tag}`];
    try {
      const readAll = (await store.create(names[0]!, ["workflows:read", "workflows:write", "runs:read", "runs:write"])).key;
      const writer = (await store.create(names[1]!, ["secrets:write"])).key;
      const admin = (await store.create(names[2]!, ["admin"])).key;
      const bearer = (k: string) => ({ authorization: `Bearer ${k}` });
      await waitFor(
        "the keys to be loaded",
        async () => (await call(scoped.url, "GET", "/api/v1/secrets", undefined, bearer(admin))).status === 200,
      );
      const name = secretName("SCOPED");
      created.push(name);
      const ops = [
        ["PUT", `/api/v1/secrets/${name}`, { value: "v" }],
        ["GET", "/api/v1/secrets", undefined],
        ["DELETE", `/api/v1/secrets/${name}`, undefined],
      ] as const;
      for (const [method, path, body] of ops) {
        const denied = await call(scoped.url, method, path, body, bearer(readAll));
        expect({ method, status: denied.status }).toEqual({ method, status: 403 });
        expect(denied.body.detail).toContain("secrets:write");
      }
      for (const key of [writer, admin])
        for (const [method, path, body] of ops) {
          const r = await call(scoped.url, method, path, body, bearer(key));
          expect({ method, status: r.status }).toEqual({ method, status: method === "GET" ? 200 : 204 });
        }
    } finally {
      for (const n of names) await store.revoke(n).catch(() => {});
      await scoped.stop();
    }
  });
});

describe("the keys' configuration", () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
  };

  test("keys are <id>:<base64 of 32 bytes>, unique; the active one must be one of them", () => {
    expect(problems({ SECRETS_KEYS: K1 })).toEqual([]);
    expect(problems({ SECRETS_KEYS: `${K1},${K2}`, SECRETS_ACTIVE_KEY: "k2" })).toEqual([]);
    const short = `short:${randomBytes(16).toString("base64")}`;
    expect(problems({ SECRETS_KEYS: short })[0]).toBe(
      `SECRETS_KEYS=${JSON.stringify(short)} is not valid: expected key "short" to be 32 bytes in base64 (openssl rand -base64 32)`,
    );
    expect(problems({ SECRETS_KEYS: "nocolon" })[0]).toContain("SECRETS_KEYS=");
    expect(problems({ SECRETS_KEYS: `${K1},${K1}` })[0]).toContain('key ids to be unique ("k1" is named twice)');
    expect(problems({ SECRETS_KEYS: "k1:not base64!" })[0]).toContain("32 bytes in base64");
    expect(problems({ SECRETS_KEYS: K1, SECRETS_ACTIVE_KEY: "k9" })).toEqual([
      'SECRETS_ACTIVE_KEY="k9" is not valid: expected the id of one of the SECRETS_KEYS keys',
    ]);
  });

  test("NODE_ENV=production without SECRETS_KEYS is refused; elsewhere a public development key, with a warning", () => {
    expect(problems({ NODE_ENV: "production" })).toEqual([
      "SECRETS_KEYS is required when NODE_ENV=production: set <id>:<base64 of 32 bytes> (openssl rand -base64 32)",
    ]);
    expect(problems({ NODE_ENV: "production", SECRETS_KEYS: K1 })).toEqual([]);
    const warnings: string[] = [];
    const dev = keyringFromConfig(loadConfig({ NODE_ENV: "development" }), (m) => warnings.push(m));
    expect(dev.activeId).toBe("dev-insecure");
    expect(warnings).toEqual([expect.stringContaining("PUBLIC DEVELOPMENT KEY")]);
    const quiet: string[] = [];
    expect(keyringFromConfig(loadConfig({ SECRETS_KEYS: `${K1},${K2}` }), (m) => quiet.push(m)).activeId).toBe("k1");
    expect(quiet).toEqual([]);
  });

  test("the API and the worker, started with NODE_ENV=production and no key, stop at once naming SECRETS_KEYS", async () => {
    for (const entry of ["api/src/server.ts", "worker/src/process.ts"]) {
      const env: Record<string, string | undefined> = { ...process.env, NODE_ENV: "production", SECRETS_KEYS: "", PORT: "0" };
      const p = Bun.spawn([process.execPath, join(import.meta.dir, "../..", entry)], { env, stdout: "pipe", stderr: "pipe" });
      expect({ entry, code: await p.exited }).toEqual({ entry, code: 2 });
      expect(await new Response(p.stderr).text()).toContain("SECRETS_KEYS is required when NODE_ENV=production");
    }
  });
});

describe("rotation", () => {
  test("bun run secrets:rotate re-encrypts every value under the active key while readers with either key go on", async () => {
    const names = [secretName("ROT_A"), secretName("ROT_B"), secretName("ROT_C")];
    for (const n of names) expect((await put(n, { value: `value of ${n}` })).status).toBe(204);
    // Processes after step 1 of the rotation: both keys, the old one still active.
    const parsed = parseKeys(`${K1},${K2}`);
    if (!parsed.ok) throw new Error(parsed.problem);
    const before = new SecretReader(new SecretStore(api.services.sql), new Keyring(parsed.keys, "k1"));
    const after = new SecretReader(new SecretStore(api.services.sql), new Keyring(parsed.keys, "k2"));
    const expected = new Map(names.map((n) => [n, `value of ${n}`]));

    let reading = true;
    let reads = 0;
    const readsDuring = (async () => {
      while (reading) {
        expect(await before.read(names)).toEqual(expected);
        expect(await after.read(names)).toEqual(expected);
        reads++;
      }
    })();
    const cli = Bun.spawn([process.execPath, "run", "secrets:rotate"], {
      cwd: join(import.meta.dir, "../.."),
      env: { ...process.env, SECRETS_KEYS: `${K2},${K1}`, SECRETS_ACTIVE_KEY: "k2" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [code, out, err] = await Promise.all([cli.exited, new Response(cli.stdout).text(), new Response(cli.stderr).text()]);
    reading = false;
    await readsDuring;
    expect(reads).toBeGreaterThan(0);
    expect(out).toMatch(/re-encrypted \d+ secret\(s\) under key "k2"/);
    // Values of other runs of the tests under keys this one does not hold stay, and are reported.
    if (code !== 0) expect({ code, err }).toEqual({ code: 1, err: expect.stringContaining("still under other keys") });
    for (const n of names) expect((await row(n))!.key_id).toBe("k2");
    expect(await after.read(names)).toEqual(expected);
    // The old key alone no longer opens them: they really are under the new one.
    const oldOnly = new SecretReader(new SecretStore(api.services.sql), new Keyring([parsed.keys[0]!], "k1"));
    await expect(oldOnly.read([names[0]!])).rejects.toThrow("which SECRETS_KEYS does not hold");

    // A second pass has nothing of these left to do.
    const again = await rotateSecrets(new SecretStore(api.services.sql), new Keyring(parsed.keys, "k2"));
    expect(again.byKey.get("k1") ?? 0).toBe(0);
  });
});
