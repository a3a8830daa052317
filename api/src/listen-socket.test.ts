import { describe, expect, test } from "bun:test";
import { backlogsOf } from "../../tests/support/sockets.ts";
import { deferAcceptOf, listeningInodes, ownListeningFds, tuneListenSockets } from "./listen-socket.ts";

// /proc/net/tcp's layout: ports in hex, state 0A is LISTEN, the inode is the tenth field.
const TABLE = [
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
  "   0: 00000000:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000000000000000 100 0 0 10 0",
  "   1: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2222 1 0000000000000000 100 0 0 10 0",
  "   2: 0100007F:0BB8 0100007F:D2A4 01 00000000:00000000 00:00000000 00000000     0        0 3333 1 0000000000000000 20 4 30 10 -1",
  "   3: 0100007F:1A0B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0000000000000000 100 0 0 10 0",
].join("\n");

describe("listeningInodes", () => {
  test("the sockets listening on the port, not its connections nor other ports", () => {
    expect(listeningInodes(TABLE, 3000)).toEqual(["1111", "2222"]);
    expect(listeningInodes(TABLE, 6667)).toEqual(["4444"]);
    expect(listeningInodes(TABLE, 80)).toEqual([]);
  });
});

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
