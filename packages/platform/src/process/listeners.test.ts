import { describe, expect, test } from "bun:test";
import { listenerPids, listeningInodes } from "./listeners.ts";

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

describe("listenerPids (Linux)", () => {
  test("finds the process listening on a port: this one, for a server it started", () => {
    const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      expect(listenerPids(server.port)).toEqual([process.pid]);
    } finally {
      server.stop(true);
    }
    expect(listenerPids(server.port)).toEqual([]);
  });
});
