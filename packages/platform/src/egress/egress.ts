import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

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
    private readonly resolve = defaultResolve,
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
    if (url.protocol !== "http:" && url.protocol !== "https:") return `scheme ${url.protocol} is not allowed`;
    const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
    if (this.hosts.has(host)) return null;
    let addresses: string[];
    try {
      addresses = isIP(host) ? [host] : await this.resolve(host);
    } catch (err) {
      return `cannot resolve ${host}: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (addresses.length === 0) return `cannot resolve ${host}`;
    for (const a of addresses) {
      let addr = ipaddr.parse(a);
      if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
      if (this.allowedAddress(addr)) continue;
      const range = addr.range();
      if (range !== "unicast")
        return `destination ${host} (${a}) is ${RANGE_NAMES[range] ?? `in the ${range} range`}, which the egress policy refuses`;
    }
    return null;
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
