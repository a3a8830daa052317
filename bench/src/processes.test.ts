import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertPortFree, start, waitHttp } from "./processes.ts";

const dir = mkdtempSync(join(tmpdir(), "wf-processes-"));
// A server already on the port, as a leftover API replica would be.
const stray = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });
afterAll(() => {
  stray.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

describe("bench processes", () => {
  test("a port something listens on is refused before a target starts; a free one is not", async () => {
    await expect(assertPortFree(stray.port!)).rejects.toThrow(`port ${stray.port} is already served by another process`);
    const free = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const port = free.port!;
    free.stop(true);
    await assertPortFree(port);
  });

  test("readiness answered by another process does not count once the target has exited", async () => {
    const target = start("api-bun", [process.execPath, "-e", "process.exit(3)"], {}, join(dir, "api-bun.log"));
    await target.proc.exited;
    await expect(waitHttp(`http://127.0.0.1:${stray.port}/`, 5_000, target)).rejects.toThrow("api-bun exited (3)");
    // without the process to watch, the stray's answer is taken for readiness: what the bench did
    await waitHttp(`http://127.0.0.1:${stray.port}/`, 5_000);
  });
});
