import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "@wf/platform/config";
import { createSql, listMigrations, migrate } from "@wf/platform/sql";
import { KeyStore } from "@wf/services/access";
import { call, startApi, type TestApi, unique, waitFor } from "../support/api.ts";
import { startWorkers, type WorkerGroup } from "../support/workers.ts";

// Version 2: the Bun API's own endpoints (the Node reference keeps v1), so always the Bun API.
let api: TestApi;
let workers: WorkerGroup | undefined;
beforeAll(async () => {
  api = await startApi({}, "bun");
});
afterAll(async () => {
  await workers?.stopAll();
  await api.stop();
});

const PROBLEM = "application/problem+json";
const UNKNOWN_ID = "0190a000-0000-7000-8000-000000000000";

const transform = (output: unknown, name = "shape") => ({ name, type: "transform", config: { output } });
const definition = (name: string, steps: unknown[], description: string | null = null) => ({ name, description, steps });

async function create(body: unknown): Promise<{ id: string; created_at: string }> {
  const r = await call(api.url, "POST", "/api/v1/workflows", body);
  expect(r.status).toBe(201);
  return r.body;
}

async function replace(id: string, body: unknown): Promise<{ version: number; updated_at: string }> {
  const r = await call(api.url, "PUT", `/api/v1/workflows/${id}`, body);
  expect(r.status).toBe(200);
  return r.body;
}

const versionsOf = (id: string, query = "") => call(api.url, "GET", `/api/v1/workflows/${id}/versions${query}`);

const expectProblem = (r: { status: number; headers: Headers }, status: number, at: string) =>
  expect({ at, status: r.status, type: r.headers.get("content-type")?.split(";")[0] }).toEqual({ at, status, type: PROBLEM });

/** A workflow created, then replaced twice: three versions, each with its own name, description and steps. */
async function threeVersions() {
  const defs = [
    definition(unique("v1"), [transform("one")], "first"),
    definition(unique("v2"), [transform("two"), { name: "note", type: "log", config: { message: "second" } }]),
    definition(unique("v3"), [{ name: "pause", type: "delay", config: { ms: 1 } }, transform("three")], "third"),
  ];
  const wf = await create(defs[0]);
  const second = await replace(wf.id, defs[1]);
  const third = await replace(wf.id, defs[2]);
  return { id: wf.id, defs, writtenAt: [wf.created_at, second.updated_at, third.updated_at] };
}

describe("GET /api/v1/workflows/{id}/versions", () => {
  test("lists every version of a create and two replaces, newest first, each as it was written", async () => {
    const { id, defs, writtenAt } = await threeVersions();
    const r = await versionsOf(id);
    expect(r.status).toBe(200);
    expect(r.body.next_cursor).toBeNull();
    expect(r.body.items).toEqual(
      [3, 2, 1].map((version) => ({
        workflow_id: id,
        version,
        name: defs[version - 1]!.name,
        description: defs[version - 1]!.description,
        steps: defs[version - 1]!.steps,
        created_at: writtenAt[version - 1],
      })),
    );
    // The workflow itself is the newest version.
    const current = (await call(api.url, "GET", `/api/v1/workflows/${id}`)).body;
    expect({ version: current.version, steps: current.steps }).toEqual({ version: 3, steps: defs[2]!.steps });
  });

  test("pages one version at a time with limit=1, then says there is no more", async () => {
    const { id } = await threeVersions();
    const seen: number[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 5; page++) {
      const r = await versionsOf(id, `?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(r.status).toBe(200);
      expect(r.body.items.length).toBe(1);
      seen.push(r.body.items[0].version);
      cursor = r.body.next_cursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual([3, 2, 1]);
    expect(cursor).toBeNull();
    // limit=2: a full page, then the rest.
    const first = await versionsOf(id, "?limit=2");
    expect(first.body.items.map((v: { version: number }) => v.version)).toEqual([3, 2]);
    const rest = await versionsOf(id, `?limit=2&cursor=${encodeURIComponent(first.body.next_cursor)}`);
    expect([rest.body.items.map((v: { version: number }) => v.version), rest.body.next_cursor]).toEqual([[1], null]);
  });

  test("a tampered cursor, another list's cursor or another workflow's is a 400 naming the cursor", async () => {
    const { id } = await threeVersions();
    const other = await threeVersions();
    const cursor = (await versionsOf(id, "?limit=1")).body.next_cursor as string;
    const tampered = `${cursor.slice(0, 5)}${cursor[5] === "A" ? "B" : "A"}${cursor.slice(6)}`;
    await create(definition(unique("listed"), [transform(1)]));
    const workflowsCursor = (await call(api.url, "GET", "/api/v1/workflows?limit=1")).body.next_cursor as string;
    expect(workflowsCursor).toBeString();
    for (const [at, bad, wf] of [
      ["tampered", tampered, id],
      ["garbage", "not-a-cursor", id],
      ["the workflows list's", workflowsCursor, id],
      ["another workflow's", cursor, other.id],
    ] as const) {
      const r = await versionsOf(wf, `?limit=1&cursor=${encodeURIComponent(bad)}`);
      expectProblem(r, 400, at);
      expect(r.body.errors).toEqual([{ path: "/cursor", message: expect.any(String) }]);
    }
  });

  test("bad page queries are 400s, as on the other lists", async () => {
    const { id } = await threeVersions();
    for (const query of ["?limit=0", "?limit=201", "?limit=abc", "?limit=1&limit=2", "?foo=1"])
      expectProblem(await versionsOf(id, query), 400, query);
    expect((await versionsOf(id, "?limit=200")).status).toBe(200);
  });

  test("an unknown or malformed workflow id is a 404", async () => {
    for (const id of [UNKNOWN_ID, "not-an-id", "0190a000-0000-0000-8000-000000000000", "%ZZ"]) expectProblem(await versionsOf(id), 404, id);
  });
});

describe("GET /api/v1/workflows/{id}/versions/{version}", () => {
  test("answers one version as the list shows it", async () => {
    const { id, defs } = await threeVersions();
    const listed = (await versionsOf(id)).body.items as Array<{ version: number }>;
    for (const version of [1, 2, 3]) {
      const r = await call(api.url, "GET", `/api/v1/workflows/${id}/versions/${version}`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual(listed.find((v) => v.version === version));
      expect(r.body.steps).toEqual(defs[version - 1]!.steps);
    }
  });

  test("an unknown workflow, a version it never had, or one that cannot be a version number is a 404", async () => {
    const { id } = await threeVersions();
    const get = (wf: string, version: string) => call(api.url, "GET", `/api/v1/workflows/${wf}/versions/${version}`);
    for (const version of ["4", "2147483647", "0", "-1", "+1", "01", "1.5", "1e0", "abc", "99999999999999999999", "%ZZ"]) {
      const r = await get(id, version);
      expectProblem(r, 404, version);
      expect(r.body.detail).toContain("version");
    }
    for (const wf of [UNKNOWN_ID, "not-an-id"]) {
      const r = await get(wf, "1");
      expectProblem(r, 404, wf);
      expect(r.body.detail).toBe(`workflow ${wf} does not exist`);
    }
  });
});

describe("the OpenAPI document", () => {
  test("documents both operations, their answers and the page limit as on the other lists", async () => {
    const doc = (await call(api.url, "GET", "/swagger/json")).body;
    const list = doc.paths["/api/v1/workflows/{id}/versions"].get;
    const one = doc.paths["/api/v1/workflows/{id}/versions/{version}"].get;
    expect(Object.keys(list.responses).sort()).toEqual(["200", "400", "401", "403", "404", "429", "503"]);
    expect(Object.keys(one.responses).sort()).toEqual(["200", "401", "403", "404", "429", "503"]);
    for (const op of [list, one]) {
      expect(op.summary).toBeString();
      expect(op.tags).toEqual(["workflows"]);
      expect(op.security).toEqual(doc.paths["/api/v1/workflows/{id}"].get.security);
    }
    const limit = (p: { parameters: Array<{ name: string; schema: unknown }> }) => p.parameters.find((x) => x.name === "limit")?.schema;
    expect(limit(list)).toEqual(limit(doc.paths["/api/v1/workflows"].get));
    expect(doc.paths["/api/v1/workflows/{id}"].delete.description).toContain("versions");
  });
});

describe("API keys", () => {
  test("the versions need a key when keys are required, as GET /api/v1/workflows/{id} does", async () => {
    const guarded = await startApi({ apiKeysRequired: true, apiKeysRefreshMs: 200 }, "bun");
    const keys = new KeyStore(guarded.services.sql);
    const name = unique("versions-key");
    try {
      const { key } = await keys.create(name);
      const { id } = await threeVersions();
      const get = (path: string, headers: Record<string, string> = {}) => call(guarded.url, "GET", path, undefined, headers);
      const auth = { authorization: `Bearer ${key}` };
      await waitFor("the new key to be accepted", async () => (await get(`/api/v1/workflows/${id}`, auth)).status === 200, 15_000, 50);
      for (const path of [`/api/v1/workflows/${id}`, `/api/v1/workflows/${id}/versions`, `/api/v1/workflows/${id}/versions/2`]) {
        const refused = await get(path);
        expect({ path, status: refused.status, challenge: refused.headers.get("www-authenticate")?.split(" ")[0] }).toEqual({
          path,
          status: 401,
          challenge: "Bearer",
        });
        expect({ path, status: (await get(path, auth)).status }).toEqual({ path, status: 200 });
      }
    } finally {
      await keys.revoke(name).catch(() => {});
      await guarded.stop();
    }
  });
});

describe("DELETE /api/v1/workflows/{id}", () => {
  test("deletes the workflow's versions with it; its runs keep their own copy", async () => {
    const { id, defs } = await threeVersions();
    const run = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: id });
    expect(run.status).toBe(202);
    expect((await call(api.url, "DELETE", `/api/v1/workflows/${id}`)).status).toBe(204);

    expectProblem(await versionsOf(id), 404, "list");
    for (const version of [1, 3])
      expectProblem(await call(api.url, "GET", `/api/v1/workflows/${id}/versions/${version}`), 404, `${version}`);
    const [left] = await api.services.sql<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM workflow_versions WHERE workflow_id = ${id}::uuid`;
    expect(left?.n).toBe(0);

    const kept = await call(api.url, "GET", `/api/v1/runs/${run.body.run_id}`);
    expect([kept.status, kept.body.workflow_version]).toEqual([200, 3]);
    const [stored] = await api.services.sql<{ definition: unknown }[]>`SELECT definition FROM runs WHERE id = ${run.body.run_id}::uuid`;
    expect(stored?.definition).toEqual(defs[2]!.steps);
  });
});

describe("a run pins the version it was triggered with", () => {
  test("a definition changed while its run is pending does not change what that run executes", async () => {
    // No worker runs yet: the runs stay pending while the definition is replaced.
    const wf = await create(definition(unique("pinned"), [transform("v1")]));
    const before = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: wf.id });
    expect(before.status).toBe(202);
    await replace(wf.id, definition(unique("pinned"), [transform("v2")]));
    const after = await call(api.url, "POST", "/api/v1/trigger", { workflow_id: wf.id });
    expect(after.status).toBe(202);
    expect((await call(api.url, "GET", `/api/v1/runs/${before.body.run_id}`)).body.status).toBe("pending");

    workers = startWorkers(1, { KAFKA_RUNS_TOPIC: api.config.runsTopic, WORKER_GROUP_ID: unique("versions-workers") });
    const finished = async (runId: string) =>
      waitFor(
        `run ${runId} to finish`,
        async () => {
          const r = await call(api.url, "GET", `/api/v1/runs/${runId}`);
          return r.body.finished_at ? r.body : undefined;
        },
        60_000,
      );
    const [first, second] = await Promise.all([finished(before.body.run_id), finished(after.body.run_id)]);
    expect({ status: first.status, output: first.output, version: first.workflow_version }).toEqual({
      status: "completed",
      output: "v1",
      version: 1,
    });
    expect({ status: second.status, output: second.output, version: second.workflow_version }).toEqual({
      status: "completed",
      output: "v2",
      version: 2,
    });
    // The version a run names is the definition it executed.
    const pinned = await call(api.url, "GET", `/api/v1/workflows/${wf.id}/versions/${first.workflow_version}`);
    expect(pinned.body.steps).toEqual([transform("v1")]);
  }, 90_000);
});

describe("migration 007", () => {
  // A database of its own, migrated up to 006 with workflows in it, then to the end.
  const name = `wf_versions_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const config = loadConfig(process.env);
  const directTo = (db: string) => {
    const u = new URL(config.databaseDirectUrl);
    u.pathname = `/${db}`;
    return u.toString();
  };
  const admin = createSql(config, directTo("postgres"), 1);
  afterAll(async () => {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  test("backfills the current version of every existing workflow", async () => {
    await admin.unsafe(`CREATE DATABASE ${name}`);
    const sql = createSql(config, directTo(name), 1);
    try {
      await migrate(
        sql,
        () => {},
        listMigrations().filter((m) => m.version < 7),
      );
      const updated = new Date("2026-01-02T03:04:05.678Z");
      await sql`
        INSERT INTO workflows (id, name, description, steps, version, created_at, updated_at) VALUES
          ('0190a000-0000-7000-8000-000000000001', 'fresh', NULL, '[{"name":"a","type":"log","config":{"message":"x"}}]', 1, ${updated}, ${updated}),
          ('0190a000-0000-7000-8000-000000000002', 'edited', 'd', '[{"name":"b","type":"delay","config":{"ms":1}}]', 4, '2025-01-01T00:00:00Z', ${updated})`;
      expect(await migrate(sql)).toEqual(
        listMigrations()
          .filter((m) => m.version >= 7)
          .map((m) => m.name),
      );
      const rows =
        await sql`SELECT workflow_id::text, version, name, description, steps, created_at FROM workflow_versions ORDER BY workflow_id`;
      expect(rows.map((r) => ({ ...r }))).toEqual([
        {
          workflow_id: "0190a000-0000-7000-8000-000000000001",
          version: 1,
          name: "fresh",
          description: null,
          steps: [{ name: "a", type: "log", config: { message: "x" } }],
          created_at: updated,
        },
        {
          workflow_id: "0190a000-0000-7000-8000-000000000002",
          version: 4,
          name: "edited",
          description: "d",
          steps: [{ name: "b", type: "delay", config: { ms: 1 } }],
          created_at: updated,
        },
      ]);
    } finally {
      await sql.end();
    }
  });
});
