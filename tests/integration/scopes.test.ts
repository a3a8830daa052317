import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { SCOPES, type Scope } from "@wf/core/scopes";
import { KeyStore } from "@wf/services/access";
import { call, sampleWorkflow, startApi, type Target, type TestApi, unique, waitFor } from "../support/api.ts";

// Scoped API keys (Version 2). The Node reference enforces the scopes of the document it publishes
// too, so the walk runs against both servers: a document that promises a 403 must keep it.
interface Operation {
  "x-required-scope"?: string;
  security?: Array<Record<string, string[]>>;
  responses?: Record<string, unknown>;
}
type Doc = { paths: Record<string, Record<string, Operation>> };

const GRANTABLE = SCOPES.filter((s) => s !== "admin");
/** Path parameters filled with values each route accepts as well-formed; the resources do not exist. */
const concrete = (template: string) =>
  template.replace(/\{(\w+)\}/g, (_, name: string) => (name === "version" ? "1" : name === "name" ? "go" : crypto.randomUUID()));
const bodyFor = (method: string) => (method === "post" || method === "put" ? {} : undefined);
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

for (const target of ["bun", "node"] as Target[])
  describe(`scoped API keys (${target})`, () => {
    let api: TestApi;
    let store: KeyStore;
    let doc: Doc;
    const names: string[] = [];
    /** per scope: a key holding that scope only, and one holding every other grantable scope (for admin: all of them) */
    const only = new Map<Scope, string>();
    const allBut = new Map<Scope, string>();
    let admin: string;

    const create = async (scopes: Scope[]) => {
      const name = unique(`scoped-${target}`);
      names.push(name);
      return (await store.create(name, scopes)).key;
    };

    beforeAll(async () => {
      api = await startApi({ apiKeysRequired: true, apiKeysRefreshMs: 200 }, target);
      store = new KeyStore(api.services.sql);
      for (const s of GRANTABLE) {
        only.set(s, await create([s]));
        allBut.set(s, await create(GRANTABLE.filter((x) => x !== s)));
      }
      admin = await create(["admin"]);
      // An operation that needs admin itself (managing webhooks): refused to a key with every other scope.
      only.set("admin", admin);
      allBut.set("admin", await create(GRANTABLE));
      // The keys are reloaded all at once: when the last one is in, all are.
      await waitFor(
        "the new keys to be accepted",
        async () => (await call(api.url, "GET", "/api/v1/runs?limit=1", undefined, bearer(admin))).status === 200,
        15_000,
        50,
      );
      doc = (await call<Doc>(api.url, "GET", "/swagger/json")).body;
    });
    afterAll(async () => {
      for (const name of names) await store.revoke(name).catch(() => {});
      await api.stop();
    });

    const operations = () =>
      Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));

    test("every /api operation of the document declares one scope, in x-required-scope and as the bearer role; no other does", () => {
      const api = operations().filter((o) => o.path.startsWith("/api/"));
      // the nine v1 operations at least: the walk below is not over an empty list
      expect(api.length).toBeGreaterThanOrEqual(9);
      const declared = new Set(api.map((o) => o.op["x-required-scope"]));
      for (const s of ["workflows:read", "workflows:write", "runs:read", "runs:write"]) expect(declared).toContain(s);
      for (const { path, method, op } of api) {
        const scope = op["x-required-scope"];
        expect({ path, method, known: (SCOPES as readonly unknown[]).includes(scope) }).toEqual({
          path,
          method,
          known: true,
        });
        expect({ path, method, security: op.security }).toEqual({ path, method, security: [{ bearer: [scope!] }, {}] });
        expect({ path, method, documents403: op.responses?.["403"] !== undefined }).toEqual({ path, method, documents403: true });
        // reads need a read scope (where the resource has one: secrets have only secrets:write), anything else a write scope
        const noReadScope = !SCOPES.includes(scope!.replace(":write", ":read") as Scope);
        // admin: what no narrower scope should allow (where run events are sent: webhooks), any method
        const fits =
          scope === "admin" ||
          (method === "get" ? scope!.endsWith(":read") || (scope!.endsWith(":write") && noReadScope) : scope!.endsWith(":write"));
        expect({ path, method, scope, fits }).toEqual({ path, method, scope, fits: true });
      }
      for (const { path, method, op } of operations().filter((o) => !o.path.startsWith("/api/")))
        expect({ path, method, scope: op["x-required-scope"] }).toEqual({ path, method, scope: undefined });
    });

    test("each operation refuses a key with every other scope (403 naming its scope) and admits one with only its scope", async () => {
      let walked = 0;
      for (const { path, method, op } of operations()) {
        const scope = op["x-required-scope"] as Scope | undefined;
        if (scope === undefined) continue;
        walked++;
        const url = concrete(path);
        const refused = await call(api.url, method.toUpperCase(), url, bodyFor(method), bearer(allBut.get(scope)!));
        expect({ method, path, status: refused.status }).toEqual({ method, path, status: 403 });
        expect(refused.headers.get("content-type")).toStartWith("application/problem+json");
        expect(refused.body).toMatchObject({
          type: expect.any(String),
          title: "Forbidden",
          status: 403,
          detail: `this API key lacks the scope ${scope}`,
        });
        for (const key of [only.get(scope)!, admin]) {
          const admitted = await call(api.url, method.toUpperCase(), url, bodyFor(method), bearer(key));
          // the made-up resources are 404 or their empty bodies 422: anything but a refusal of the key
          expect({ method, path, refused: [401, 403].includes(admitted.status) }).toEqual({ method, path, refused: false });
        }
      }
      expect(walked).toBeGreaterThanOrEqual(9);
    });

    test("a scope is checked before the body is read: nothing is stored for a read-only key", async () => {
      const wf = sampleWorkflow();
      const r = await call(api.url, "POST", "/api/v1/workflows", wf, bearer(only.get("workflows:read")!));
      expect(r.status).toBe(403);
      expect(r.body.detail).toBe("this API key lacks the scope workflows:write");
      const notJson = await call(api.url, "POST", "/api/v1/workflows", "x".repeat(64), {
        ...bearer(only.get("runs:write")!),
        "content-type": "text/plain",
      });
      // a 415 would mean the body was looked at first
      expect(notJson.status).toBe(403);
      expect((await api.services.sql`SELECT 1 FROM workflows WHERE name = ${wf.name}`).length).toBe(0);
      const created = await call(api.url, "POST", "/api/v1/workflows", wf, bearer(only.get("workflows:write")!));
      expect(created.status).toBe(201);
    });

    test("no key or an unknown key is still 401, whatever the route's scope", async () => {
      for (const headers of [{}, bearer(`${admin.slice(0, -2)}zz`)]) {
        const r = await call(api.url, "POST", `/api/v1/runs/${crypto.randomUUID()}/cancel`, undefined, headers);
        expect(r.status).toBe(401);
        expect(r.headers.get("www-authenticate")).toStartWith("Bearer");
      }
    });
  });

describe("bun run keys", () => {
  const ROOT = join(import.meta.dir, "../..");
  let api: TestApi;
  const names: string[] = [];
  beforeAll(async () => {
    api = await startApi({ apiKeysRequired: true, apiKeysRefreshMs: 200 }, "bun");
  });
  afterAll(async () => {
    const store = new KeyStore(api.services.sql);
    for (const name of names) await store.revoke(name).catch(() => {});
    await api.stop();
  });

  const keys = async (...args: string[]) => {
    const p = Bun.spawn([process.execPath, "packages/services/src/access/keys-cli.ts", ...args], {
      cwd: ROOT,
      env: process.env,
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { out: out.trim(), err, code };
  };
  const scopesOf = async (name: string) =>
    (await api.services.sql<{ scopes: string[] }[]>`SELECT to_jsonb(scopes) AS scopes FROM api_keys WHERE name = ${name}`)[0]?.scopes;

  test("create --scopes stores those scopes, and the key can do just that", async () => {
    const name = unique("cli-scoped");
    names.push(name);
    const r = await keys("create", name, "--scopes", "runs:read,workflows:read");
    expect(r.code).toBe(0);
    expect(r.out).toStartWith("wfk_");
    expect(r.err).toContain("runs:read,workflows:read");
    expect(await scopesOf(name)).toEqual(["runs:read", "workflows:read"]);
    const auth = bearer(r.out);
    await waitFor(
      "the key to be accepted",
      async () => (await call(api.url, "GET", "/api/v1/runs?limit=1", undefined, auth)).status === 200,
      15_000,
      50,
    );
    expect((await call(api.url, "GET", "/api/v1/workflows?limit=1", undefined, auth)).status).toBe(200);
    const trigger = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: crypto.randomUUID() }, auth);
    expect(trigger.status).toBe(403);
    expect(trigger.body.detail).toBe("this API key lacks the scope runs:write");
    expect((await keys("list")).out.split("\n").find((l) => l.startsWith(`${name}\t`))).toContain("\truns:read,workflows:read\t");
  });

  test("create without --scopes makes an admin key", async () => {
    const name = unique("cli-admin");
    names.push(name);
    const r = await keys("create", name);
    expect(r.code).toBe(0);
    expect(await scopesOf(name)).toEqual(["admin"]);
  });

  test("an unknown scope, or --scopes without a list, exits 2 naming the problem and creates nothing", async () => {
    for (const args of [["--scopes", "runs:read,runs:delete"], ["--scopes=admin,"], ["--scopes"]]) {
      const name = unique("cli-bad");
      const r = await keys("create", name, ...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.err).toMatch(/unknown scope|needs a comma-separated list/);
      expect(await scopesOf(name)).toBeUndefined();
    }
    expect((await keys("create", unique("cli-bad"), "--scopes", "runs:delete")).err).toContain('"runs:delete"');
  });
});
