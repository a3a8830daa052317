import { describe, expect, test } from "bun:test";
import { EgressPolicy } from "./egress.ts";

// Every spelling of an inside address a workflow author might try in an http step's url: the URL
// parser normalizes them, and the policy checks what they normalize to (docs/threat-model.md).
describe("the egress policy, whatever the spelling of the address", () => {
  const policy = new EgressPolicy([], async () => ["93.184.216.34"]);

  test("decimal, hex, octal, short, IPv4-mapped IPv6, 0, [::] and credentials before @ are refused", async () => {
    for (const u of [
      "http://2130706433/",
      "http://0x7f000001/",
      "http://0177.0.0.1/",
      "http://127.1/",
      "http://0x7f.1/",
      "http://[::ffff:127.0.0.1]/",
      "http://[::ffff:169.254.169.254]/",
      "http://[::ffff:a9fe:a9fe]/",
      "http://0/",
      "http://[::]/",
      "http://public.example@127.0.0.1/",
      "http://user:pass@169.254.169.254/",
      "http://169.254.169.254./",
      "http://[0:0:0:0:0:0:0:1]/",
    ])
      expect(await policy.check(new URL(u)), u).toContain("egress policy refuses");
  });

  test("a public name is admitted (the resolver says where it goes)", async () => {
    expect(await policy.check(new URL("http://public.example/"))).toBeNull();
  });
});
