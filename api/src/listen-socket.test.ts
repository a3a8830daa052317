import { describe, expect, test } from "bun:test";
import { backlogsOf } from "../../tests/support/sockets.ts";
import { deferAcceptOf, ownListeningFds, tuneListenSockets } from "./listen-socket.ts";

describe("tuneListenSockets (Linux)", () => {
  test("finds Bun.serve's socket, lists it with the backlog asked and stops deferring accepts", () => {
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("ok") });
    try {
      const [fd, ...more] = ownListeningFds(server.port!);
      expect(more).toEqual([]);
      // Bun's own settings, the reason for this module: were they to change, it may be unneeded.
      expect(deferAcceptOf(fd!)).toBeGreaterThan(0);
      expect(backlogsOf(server.port!)).toEqual([512]);
      expect(tuneListenSockets(server.port!, 2048)).toEqual({ ok: true, fds: [fd!], deferAcceptWas: [1] });
      expect(deferAcceptOf(fd!)).toBe(0);
      expect(backlogsOf(server.port!)).toEqual([2048]);
    } finally {
      server.stop(true);
    }
  });

  test("says why when this process has no socket on the port", () => {
    expect(tuneListenSockets(1, 2048)).toEqual({ ok: false, reason: "no listening socket of this process on port 1 in /proc" });
  });
});
