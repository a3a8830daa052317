import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StepFailure } from "@wf/core/engine";
import { EgressPolicy } from "./egress.ts";
import { EgressError, egressFetch } from "./egress-fetch.ts";
import { runHttpStep } from "./http-step.ts";

/**
 * DNS rebinding: a name that resolves to an allowed address when the policy asks and to a refused
 * one when the connection is made. Two servers share a port, one on 127.0.0.1 (allowed here) and
 * one on 127.0.0.2 (loopback, refused); the resolver answers the first once, then the second. A
 * request that resolved the name again would reach the second.
 */
function rebinding(first: string, after: string) {
  const calls: string[] = [];
  const resolve = async (host: string) => {
    calls.push(host);
    if (!host.endsWith("rebind.test")) throw new Error("ENOTFOUND");
    return [calls.length === 1 ? first : after];
  };
  return { calls, policy: new EgressPolicy(["127.0.0.1"], resolve) };
}

/** Answers which server it is and the Host header it was sent. */
const who = (name: string) => (req: Request) => Response.json({ server: name, host: req.headers.get("host") });
const limits = { defaultTimeoutMs: 2000, maxResponseBytes: 4096 };
const limitsOf = () => ({ timeoutMs: limits.defaultTimeoutMs, maxResponseBytes: limits.maxResponseBytes });

describe("http: the connection goes to the address the policy checked", () => {
  const allowed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: who("allowed") });
  const inside = Bun.serve({ port: allowed.port, hostname: "127.0.0.2", fetch: who("inside") });
  afterAll(() => {
    allowed.stop(true);
    inside.stop(true);
  });

  test("a name that rebinds after the check still reaches the checked address, with its own Host", async () => {
    const { calls, policy } = rebinding("127.0.0.1", "127.0.0.2");
    const url = `http://rebind.test:${allowed.port}/who`;
    const out = await runHttpStep({ method: "GET", url }, policy, limits, new AbortController().signal);
    expect(out.body).toEqual({ server: "allowed", host: `rebind.test:${allowed.port}` });
    expect(calls).toEqual(["rebind.test"]);
    // The next request resolves again, and the policy refuses what the name now points at.
    const next = await runHttpStep({ method: "GET", url }, policy, limits, new AbortController().signal).catch((e) => e);
    expect(next).toBeInstanceOf(StepFailure);
    expect([next.message, next.retryable]).toEqual([
      `destination rebind.test (127.0.0.2) is loopback, which the egress policy refuses`,
      false,
    ]);
  });

  test("the reverse: a refused first answer is refused, whatever the name says next", async () => {
    const { policy } = rebinding("127.0.0.2", "127.0.0.1");
    const err = await egressFetch(new URL(`http://rebind.test:${allowed.port}/`), policy, { method: "GET", ...limitsOf() }).catch((e) => e);
    expect(err).toBeInstanceOf(EgressError);
    expect(err.message).toContain("loopback");
  });

  test("an IPv6 address is connected to in brackets", async () => {
    const v6 = Bun.serve({ port: 0, hostname: "::1", fetch: who("v6") });
    try {
      const policy = new EgressPolicy(["::1"], async () => ["::1"]);
      const res = await egressFetch(new URL(`http://six.test:${v6.port}/`), policy, { method: "GET", ...limitsOf() });
      expect(JSON.parse(new TextDecoder().decode(res.body))).toEqual({ server: "v6", host: `six.test:${v6.port}` });
    } finally {
      v6.stop(true);
    }
  });

  test("a name that does not resolve is a failure a retry may get past (a refused one is not: above)", async () => {
    const policy = new EgressPolicy([], async () => {
      throw new Error("ENOTFOUND");
    });
    const err = await egressFetch(new URL("http://gone.test/"), policy, { method: "GET", ...limitsOf() }).catch((e) => e);
    expect([err.message, err.retryable]).toEqual(["cannot resolve gone.test: ENOTFOUND", true]);
  });
});

describe("a response body over the cap", () => {
  const big = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("x".repeat(10_000)) });
  afterAll(() => big.stop(true));
  const policy = new EgressPolicy(["127.0.0.1"]);
  const url = () => new URL(`http://127.0.0.1:${big.port}/`);

  test("fails the request, as an http step needs", async () => {
    const err = await egressFetch(url(), policy, { method: "GET", timeoutMs: 2000, maxResponseBytes: 100 }).catch((e) => e);
    expect(err).toBeInstanceOf(EgressError);
    expect(err.message).toContain("exceeds the 100-byte limit");
  });

  test("with truncate, is cut at the cap (a webhook receiver's answer is only shown)", async () => {
    const res = await egressFetch(url(), policy, { method: "GET", timeoutMs: 2000, maxResponseBytes: 100, truncate: true });
    expect([res.status, res.body.byteLength]).toEqual([200, 100]);
  });
});

/** A self-signed certificate for rebind.test, made with the openssl CLI for this run. */
function certificate(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), "egress-tls-"));
  try {
    const p = Bun.spawnSync(
      [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=rebind.test",
        "-addext",
        "subjectAltName=DNS:rebind.test",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { stderr: "pipe" },
    );
    if (p.exitCode !== 0) throw new Error(`openssl could not make a test certificate: ${p.stderr.toString()}`);
    return { cert: readFileSync(join(dir, "cert.pem"), "utf8"), key: readFileSync(join(dir, "key.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("https: pinned to the checked address, the name kept for SNI and the certificate", () => {
  let tls: { cert: string; key: string };
  let allowed: ReturnType<typeof Bun.serve>;
  let inside: ReturnType<typeof Bun.serve>;
  beforeAll(() => {
    tls = certificate();
    // Both hold a valid certificate for the name: only the address tells them apart.
    allowed = Bun.serve({ port: 0, hostname: "127.0.0.1", tls, fetch: who("allowed") });
    inside = Bun.serve({ port: allowed.port, hostname: "127.0.0.2", tls, fetch: who("inside") });
  });
  afterAll(() => {
    allowed.stop(true);
    inside.stop(true);
  });

  test("a name that rebinds after the check still reaches the checked address over TLS", async () => {
    const { calls, policy } = rebinding("127.0.0.1", "127.0.0.2");
    const res = await egressFetch(new URL(`https://rebind.test:${allowed.port}/who`), policy, {
      method: "GET",
      ...limitsOf(),
      ca: tls.cert,
    });
    expect(JSON.parse(new TextDecoder().decode(res.body))).toEqual({ server: "allowed", host: `rebind.test:${allowed.port}` });
    expect(calls).toEqual(["rebind.test"]);
  });

  test("the certificate is still checked against the name, not the address", async () => {
    const policy = new EgressPolicy(["127.0.0.1"], async () => ["127.0.0.1"]);
    const err = await egressFetch(new URL(`https://other.test:${allowed.port}/`), policy, {
      method: "GET",
      ...limitsOf(),
      ca: tls.cert,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(EgressError);
    expect(err.message).toContain("ERR_TLS_CERT_ALTNAME_INVALID");
    // And without the test CA the self-signed certificate is not trusted at all.
    const untrusted = await egressFetch(new URL(`https://rebind.test:${allowed.port}/`), policy, { method: "GET", ...limitsOf() }).catch(
      (e) => e,
    );
    expect(untrusted).toBeInstanceOf(EgressError);
  });
});
