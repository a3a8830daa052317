import { afterAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { readTcpCounters } from "../../bench/src/tcp.ts";
import { startApi, waitFor } from "../support/api.ts";
import { collectLines, freePort, startApiReplicas } from "../support/replicas.ts";
import { backlogsOf } from "../support/sockets.ts";

/**
 * Many users connecting at once, as the bench's 10,000 do: each opens a connection, sends one
 * request as soon as it is up, and counts a 200. The machine's TCP counters say whether the
 * listener's queues held the burst (nothing else on this machine opens connections by thousands).
 */
async function burst(port: number, connections: number): Promise<{ ok: number; cookies: number; overflows: number }> {
  const before = readTcpCounters()!;
  let ok = 0;
  await Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise<void>((resolve, reject) => {
          Bun.connect({
            hostname: "127.0.0.1",
            port,
            socket: {
              open: (s) => void s.write("GET /health HTTP/1.1\r\nhost: burst\r\n\r\n"),
              data: (s, chunk) => {
                if (chunk.toString("latin1").startsWith("HTTP/1.1 200")) ok++;
                s.end();
                resolve();
              },
              close: () => resolve(),
              error: (_s, e) => reject(e),
            },
          }).catch(reject);
        }),
    ),
  );
  const after = readTcpCounters()!;
  return { ok, cookies: after.SyncookiesSent - before.SyncookiesSent, overflows: after.ListenOverflows - before.ListenOverflows };
}

const CONNECTIONS = 3_000;
const running: Subprocess[] = [];
afterAll(async () => {
  for (const p of running) p.kill("SIGTERM");
  await Promise.all(running.map((p) => p.exited));
});

describe("the listen queue under a burst of connections", () => {
  test("Bun.serve as Bun sets it (backlog 512, deferred accept): the burst overflows into SYN cookies or drops", async () => {
    const server = Bun.spawn(
      [
        process.execPath,
        "-e",
        `const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("ok") }); console.log(JSON.stringify({ port: s.port }));`,
      ],
      { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    );
    running.push(server);
    const lines = collectLines(server);
    const port = await waitFor(
      "the plain Bun.serve to listen",
      async () => lines.length > 0 && (JSON.parse(lines[0]!) as { port: number }).port,
      10_000,
    );
    expect(backlogsOf(port)).toEqual([512]);
    const r = await burst(port, CONNECTIONS);
    expect(r.cookies + r.overflows).toBeGreaterThan(0);
  });

  test("bun run api: every replica listens with HTTP_LISTEN_BACKLOG, and the same burst gets no SYN cookie and no drop", async () => {
    const port = await freePort();
    const api = startApiReplicas(port, 2, { HTTP_LISTEN_BACKLOG: "4096" });
    running.push(api);
    const lines = collectLines(api);
    const listening = () =>
      lines.filter((l) => l.includes('"api replica listening"')).map((l) => JSON.parse(l) as { backlog?: number; level: string });
    await waitFor("both replicas to listen", async () => listening().length === 2, 30_000);
    expect(listening().map((l) => [l.level, l.backlog])).toEqual([
      ["info", 4096],
      ["info", 4096],
    ]);
    expect(backlogsOf(port)).toEqual([4096, 4096]);
    expect(await burst(port, CONNECTIONS)).toEqual({ ok: CONNECTIONS, cookies: 0, overflows: 0 });
  });

  test("the Node reference listens with the same HTTP_LISTEN_BACKLOG", async () => {
    const node = await startApi({ listenBacklog: 3000 }, "node");
    try {
      expect(backlogsOf(Number(new URL(node.url).port))).toEqual([3000]);
    } finally {
      await node.stop();
    }
  });
});
