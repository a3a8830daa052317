import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { KeyStore } from "@wf/services/access";
import { call, startApi, type TestApi, unique, waitFor } from "../support/api.ts";

/**
 * Schemathesis, the OpenAPI fuzzer, against the Bun API with API keys required: every check, every
 * phase (examples, coverage, fuzzing, and the stateful phase that follows the document's links).
 * Any finding fails the test. tests/schemathesis/schemathesis.toml says what JSON Schema cannot
 * (signed cursors, a step graph's meaning) and why. Reproduce with SCHEMATHESIS_SEED=<printed seed>;
 * SCHEMATHESIS_MAX_TIME sets its time budget in seconds.
 */
const REPO = join(import.meta.dir, "../..");
const VENV = join(process.env.STACK_DIR ?? join(REPO, ".stack"), "schemathesis");
const BIN = join(VENV, "bin/schemathesis");
const MAX_TIME_S = Number(process.env.SCHEMATHESIS_MAX_TIME ?? 150);
const SEED = process.env.SCHEMATHESIS_SEED ?? String(Math.floor(Math.random() * 2 ** 48));

let api: TestApi;
let store: KeyStore;
const name = unique("schemathesis");
let key: string;

beforeAll(async () => {
  // Its bulk actions match runs of the whole shared database (other tests' too): a few a call.
  api = await startApi({ apiKeysRequired: true, apiKeysRefreshMs: 200, bulkMaxRuns: 5 }, "bun");
  store = new KeyStore(api.services.sql);
  key = (await store.create(name, ["admin"])).key;
  await waitFor(
    "the key to be accepted",
    async () => (await call(api.url, "GET", "/api/v1/runs?limit=1", undefined, { authorization: `Bearer ${key}` })).status === 200,
    15_000,
    50,
  );
});
afterAll(async () => {
  await store?.revoke(name).catch(() => {});
  await api?.stop();
});

describe("schemathesis", () => {
  test(
    "finds nothing: every schema-valid request accepted, every invalid one refused, every answer as documented",
    async () => {
      // Not a skip: CI installs it (./dev test); a missing fuzzer is a failed check, not a passed one.
      if (!existsSync(BIN)) throw new Error(`schemathesis is not installed at ${BIN}: run tests/schemathesis/install`);
      console.log(`[schemathesis] seed ${SEED} (SCHEMATHESIS_SEED=${SEED} reproduces), ${MAX_TIME_S} s`);
      const proc = Bun.spawn(
        [
          BIN,
          "--config-file",
          join(REPO, "tests/schemathesis/schemathesis.toml"),
          "run",
          `${api.url}/swagger/json`,
          "--checks",
          "all",
          "--header",
          `Authorization: Bearer ${key}`,
          "--workers",
          "1",
          "--max-time",
          String(MAX_TIME_S),
          "--seed",
          SEED,
          "--no-color",
        ],
        // In its venv: it keeps the failures it found (replayed first next time) in its working directory.
        { cwd: VENV, stdout: "pipe", stderr: "pipe", env: { ...process.env, SCHEMATHESIS_TELEMETRY: "false" } },
      );
      const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
      const summary = out.slice(out.lastIndexOf("SUMMARY"));
      console.log(code === 0 ? summary : `${out}\n${err}`);
      expect(code).toBe(0);
      // It did test: every phase ran and every operation of the document was selected.
      expect(summary).toMatch(/✅ Coverage/);
      expect(summary).toMatch(/✅ Fuzzing/);
      expect(summary).toMatch(/✅ Stateful/);
    },
    (MAX_TIME_S + 120) * 1000,
  );
});
