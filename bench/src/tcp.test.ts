import { describe, expect, test } from "bun:test";
import { listenQueueSettings, parseProcNet, readTcpCounters, type TcpCounters, tcpBetween } from "./tcp.ts";

// The layout of /proc/net/snmp: a line of names, then a line of values, per protocol.
const SNMP = [
  "Ip: Forwarding DefaultTTL InReceives",
  "Ip: 2 64 114461205",
  "Tcp: RtoAlgorithm RtoMin ActiveOpens OutSegs RetransSegs",
  "Tcp: 1 200 1441288 119777073 122903",
  "Udp: InDatagrams NoPorts",
  "Udp: 5 0",
].join("\n");

describe("parseProcNet", () => {
  test("pairs each name with the value under it, for the protocol asked only", () => {
    const tcp = parseProcNet(SNMP, "Tcp");
    expect(tcp.get("OutSegs")).toBe(119777073);
    expect(tcp.get("RetransSegs")).toBe(122903);
    expect(tcp.get("InReceives")).toBeUndefined();
    expect(parseProcNet(SNMP, "TcpExt").size).toBe(0);
  });
});

describe("tcpBetween", () => {
  test("counts what happened between two readings, segments over the requests", () => {
    const a: TcpCounters = { OutSegs: 1_000, RetransSegs: 10, ListenOverflows: 3, SyncookiesSent: 0, TCPSynRetrans: 3 };
    const b: TcpCounters = { OutSegs: 8_000, RetransSegs: 25, ListenOverflows: 420, SyncookiesSent: 9, TCPSynRetrans: 420 };
    expect(tcpBetween(a, b, 1_400)).toEqual({
      listen_overflows: 417,
      syncookies_sent: 9,
      syn_retransmits: 417,
      retransmitted_segments: 15,
      segments_per_request: 5,
    });
    expect(tcpBetween(a, b, 0).segments_per_request).toBe(0);
  });
});

describe("readTcpCounters on this machine (Linux)", () => {
  test("reads every counter, and traffic on loopback moves the segments sent", async () => {
    const before = readTcpCounters()!;
    for (const v of Object.values(before)) expect(Number.isInteger(v) && v >= 0).toBe(true);
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("x".repeat(100)) });
    try {
      // A fresh connection each: at least SYN, ACK, request, answer and FIN from this machine.
      for (let i = 0; i < 20; i++) await (await fetch(`http://127.0.0.1:${server.port}/`, { headers: { connection: "close" } })).text();
    } finally {
      server.stop(true);
    }
    const after = readTcpCounters()!;
    expect(after.OutSegs - before.OutSegs).toBeGreaterThanOrEqual(20 * 5);
    expect(tcpBetween(before, after, 20).segments_per_request).toBeGreaterThanOrEqual(5);
  });
});

describe("listenQueueSettings on this machine (Linux)", () => {
  test("reads the kernel's cap on a backlog and whether a full SYN queue sends cookies", () => {
    const { somaxconn, tcp_syncookies } = listenQueueSettings();
    expect(Number.isInteger(somaxconn) && (somaxconn as number) > 0).toBe(true);
    expect([0, 1, 2]).toContain(tcp_syncookies as number);
  });
});
