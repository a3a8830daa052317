import { describe, expect, test } from "bun:test";
import { EgressPolicy } from "./egress.ts";

const resolveTo = (map: Record<string, string[]>) => async (h: string) => {
  if (!(h in map)) throw new Error("ENOTFOUND");
  return map[h]!;
};

describe("EgressPolicy", () => {
  const policy = new EgressPolicy(
    [],
    resolveTo({ "public.test": ["93.184.215.14"], "sneaky.test": ["10.1.2.3"], "v6.test": ["::ffff:127.0.0.1"] }),
  );

  test("refuses metadata, private, loopback and link-local destinations", async () => {
    for (const u of [
      "http://169.254.169.254/latest/meta-data",
      "http://10.0.0.1/",
      "http://192.168.1.1",
      "http://172.16.0.1",
      "http://127.0.0.1:8080",
      "http://[::1]/",
      "http://[fe80::1]/",
      "http://0.0.0.0/",
      "http://100.64.0.1/",
    ])
      expect(await policy.check(new URL(u)), u).toContain("egress policy refuses");
  });

  test("checks what a hostname resolves to", async () => {
    expect(await policy.check(new URL("http://public.test/x"))).toBeNull();
    expect(await policy.check(new URL("http://sneaky.test/x"))).toContain("private");
    expect(await policy.check(new URL("http://v6.test/x"))).toContain("loopback");
    expect(await policy.check(new URL("http://missing.test/x"))).toContain("cannot resolve");
  });

  test("localhost is refused unless allowed", async () => {
    const real = new EgressPolicy();
    expect(await real.check(new URL("http://localhost:1/"))).toContain("loopback");
    expect(await new EgressPolicy(["localhost"]).check(new URL("http://localhost:1/"))).toBeNull();
    expect(await new EgressPolicy(["127.0.0.0/8"]).check(new URL("http://127.0.0.1:9/"))).toBeNull();
    expect(await new EgressPolicy(["127.0.0.1"]).check(new URL("http://10.0.0.1/"))).toContain("private");
  });

  test("only http and https", async () => {
    expect(await policy.check(new URL("file:///etc/passwd"))).toContain("scheme");
  });

  test("validates configuration entries", () => {
    expect(["localhost", "10.0.0.0/8", "::1", "api.example.com"].every(EgressPolicy.isEntry)).toBe(true);
    expect(["10.0.0.0/99", "a b", ""].some(EgressPolicy.isEntry)).toBe(false);
  });
});
