import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

/** A host name's addresses, as getaddrinfo answers (tests inject their own). */
export type Resolve = (host: string) => Promise<string[]>;

/**
 * The policy's answer for one URL. `address` is where it may be fetched, and the only place: the
 * connection must go there (see egressFetch), since resolving the name again could answer
 * another address (DNS rebinding). `unresolved` is a DNS failure, which a retry may get past.
 */
export type Admission = { ok: true; address: string } | { ok: false; reason: string; unresolved?: true };

/**
 * Where http steps may connect. By default every address that is not plainly public is refused:
 * private, loopback, link-local (which holds the cloud metadata endpoint 169.254.169.254),
 * unique-local, CGNAT, multicast, reserved and unspecified ranges. The check runs on the addresses
 * the hostname resolves to, so a public-looking name that points inward is refused too.
 * `allow` opens specific hostnames, addresses or CIDR ranges.
 */
export class EgressPolicy {
  private readonly hosts = new Set<string>();
  private readonly ranges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> = [];

  constructor(
    allow: readonly string[] = [],
    private readonly resolve: Resolve = defaultResolve,
  ) {
    for (const entry of allow) {
      const e = entry.trim().toLowerCase();
      if (e.includes("/")) this.ranges.push(ipaddr.parseCIDR(e));
      else if (ipaddr.isValid(e)) this.ranges.push([ipaddr.parse(e), ipaddr.parse(e).kind() === "ipv4" ? 32 : 128]);
      else this.hosts.add(e);
    }
  }

  /** Validates an `allow` entry for configuration: true for a hostname, an address or a CIDR. */
  static isEntry(entry: string): boolean {
    const e = entry.trim();
    if (e.includes("/")) return ipaddr.isValidCIDR(e);
    return ipaddr.isValid(e) || /^[a-z0-9.-]+$/i.test(e);
  }

  private allowedAddress(addr: ipaddr.IPv4 | ipaddr.IPv6): boolean {
    return this.ranges.some(([net, bits]) => addr.kind() === net.kind() && addr.match(net as never, bits));
  }

  /** null when the URL may be fetched, otherwise the reason it may not. */
  async check(url: URL): Promise<string | null> {
    const a = await this.admit(url);
    return a.ok ? null : a.reason;
  }

  /**
   * Resolves the URL's host once and checks every address it has; admitted, the first is the one
   * to connect to. A host on the allow list is resolved too, so that it is pinned the same way.
   */
  async admit(url: URL): Promise<Admission> {
    if (url.protocol !== "http:" && url.protocol !== "https:") return { ok: false, reason: `scheme ${url.protocol} is not allowed` };
    const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
    let addresses: string[];
    try {
      addresses = isIP(host) ? [host] : await this.resolve(host);
    } catch (err) {
      return { ok: false, reason: `cannot resolve ${host}: ${err instanceof Error ? err.message : String(err)}`, unresolved: true };
    }
    if (addresses.length === 0) return { ok: false, reason: `cannot resolve ${host}`, unresolved: true };
    if (this.hosts.has(host)) return { ok: true, address: addresses[0]! };
    for (const a of addresses) {
      let addr = ipaddr.parse(a);
      if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
      if (this.allowedAddress(addr)) continue;
      const range = addr.range();
      if (range !== "unicast")
        return {
          ok: false,
          reason: `destination ${host} (${a}) is ${RANGE_NAMES[range] ?? `in the ${range} range`}, which the egress policy refuses`,
        };
    }
    return { ok: true, address: addresses[0]! };
  }
}

const RANGE_NAMES: Record<string, string> = {
  linkLocal: "link-local (where cloud metadata endpoints live)",
  loopback: "loopback",
  private: "a private address",
  uniqueLocal: "a unique-local (private) address",
  carrierGradeNat: "carrier-grade NAT space",
  unspecified: "unspecified",
  multicast: "multicast",
  broadcast: "broadcast",
  reserved: "reserved",
};

async function defaultResolve(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((r) => r.address);
}
