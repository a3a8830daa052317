/** What the machine's TCP did during the flows: handshakes dropped or answered with cookies, segments sent again. */
import type { FlowRun } from "../../results.ts";
import { type Block, blockWriter } from "../blocks.ts";
import type { ReportContext } from "../context.ts";
import { anyRound, type Figure, pairedRounds } from "../figures.ts";
import { inUnit, range } from "../format.ts";

/** What the machine's TCP did during the flows, for the rounds that recorded it. */
export function tcpFigures(flow: FlowRun[]): Figure[] {
  const { f } = pairedRounds(flow, (r) => r.tcp);
  return [
    f("Listen queue overflows", "handshakes", (c) => c.listen_overflows),
    f("SYN cookies sent", "handshakes", (c) => c.syncookies_sent),
    f("SYNs sent again", "segments", (c) => c.syn_retransmits),
    f("Segments sent again", "segments", (c) => c.retransmitted_segments),
    f("Segments sent", "per request", (c) => c.segments_per_request),
  ];
}

export function tcpSection({ r }: ReportContext): Block[] {
  const w = blockWriter();
  const tcp = tcpFigures(r.flow);
  if (!anyRound(tcp[0]!)) return w.blocks;
  w.h2("What TCP did during the flows", "tcp");
  w.p(
    "The machine's TCP counters (Linux's /proc/net/snmp and /proc/net/netstat) over each measured flow, median of rounds. They are machine-wide: nearly all of it is the flow's own connections, one per user, opened at once. " +
      "How the API's listen sockets take that burst shows here. A **listen queue overflow** drops a handshake, and its client sends the SYN again a second or more later: that user's requests, and maybe the flow's wall time, carry the wait. " +
      "A **SYN cookie** answers a handshake when the SYN queue is full: the connection works, but on loopback its segments shrink from about 64 KB to at most 1,460 bytes, so a larger answer leaves in more segments. " +
      "Segments are **sent again** after a timeout or a loss probe: each held its connection up for at least the retransmission timer. Counts that are often zero make poor ratios, so each target's rounds are shown instead.",
  );
  w.table(
    ["During the flow", "Bun", "Node", "Bun rounds", "Node rounds"],
    tcp.map((f) => [
      `${f.metric} (${f.unit})`,
      inUnit(f.bunMedian, f.unit),
      inUnit(f.nodeMedian, f.unit),
      range(f.bun, f.unit),
      range(f.node, f.unit),
    ]),
  );
  return w.blocks;
}
