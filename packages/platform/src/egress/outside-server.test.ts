import { afterAll, describe, expect, test } from "bun:test";
import { EgressPolicy } from "./egress.ts";
import { EgressError, egressFetch } from "./egress-fetch.ts";
import { runHttpStep } from "./http-step.ts";

// What an outside server reached by an http step or a webhook delivery can do with its answer
// (docs/threat-model.md): redirects, endless or slow bodies, slow heads. 127.0.0.1 is the allowed
// "outside"; 127.0.0.3 stands for an address the policy refuses (loopback, not allowed here).

const policy = new EgressPolicy(["127.0.0.1"]);
const limits = { defaultTimeoutMs: 2000, maxResponseBytes: 4096 };

/** Counts what reaches the refused address: nothing must. */
let insideHits = 0;
const inside = Bun.serve({
  port: 0,
  hostname: "127.0.0.3",
  fetch: () => {
    insideHits++;
    return Response.json({ secret: "internal" });
  },
});

/** Bytes produced by /endless so far: a reader that stops reading stops the production too. */
let produced = 0;
const outside = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  idleTimeout: 30,
  async fetch(req) {
    const path = new URL(req.url).pathname;
    if (path === "/redirect-inside") return new Response(null, { status: 302, headers: { location: `http://127.0.0.3:${inside.port}/` } });
    if (path === "/redirect-metadata")
      return new Response(null, { status: 307, headers: { location: "http://169.254.169.254/latest/meta-data/" } });
    if (path === "/redirect-here") return new Response(null, { status: 301, headers: { location: "/landing" } });
    if (path === "/endless") {
      // No content-length: only the reader's cap can stop it.
      const chunk = new Uint8Array(64 * 1024).fill(120);
      return new Response(
        new ReadableStream({
          async pull(c) {
            produced += chunk.byteLength;
            c.enqueue(chunk);
            await Bun.sleep(1);
          },
        }),
      );
    }
    if (path === "/slow-head") {
      await Bun.sleep(5000);
      return new Response("late");
    }
    if (path === "/dribble") {
      // The head at once, then a byte a second: a body that would keep a reader forever.
      return new Response(
        new ReadableStream({
          async pull(c) {
            c.enqueue(new Uint8Array([120]));
            await Bun.sleep(1000);
          },
        }),
      );
    }
    landingHits++;
    return new Response("landed");
  },
});
let landingHits = 0;
afterAll(() => {
  inside.stop(true);
  outside.stop(true);
});
const at = (path: string) => `http://127.0.0.1:${outside.port}${path}`;
const signal = () => new AbortController().signal;

describe("an outside server's answer", () => {
  test("a redirect to a refused address is not followed: the step gets the 3xx, the address gets nothing", async () => {
    for (const [path, status, location] of [
      ["/redirect-inside", 302, `http://127.0.0.3:${inside.port}/`],
      ["/redirect-metadata", 307, "http://169.254.169.254/latest/meta-data/"],
    ] as const) {
      const out = await runHttpStep({ method: "GET", url: at(path) }, policy, limits, signal());
      expect({ status: out.status, location: out.headers.location }).toEqual({ status, location });
    }
    expect(insideHits).toBe(0);
  });

  test("no redirect is followed at all, even to an allowed address (each hop would need its own check)", async () => {
    const res = await egressFetch(new URL(at("/redirect-here")), policy, {
      method: "POST",
      body: "{}",
      timeoutMs: 2000,
      maxResponseBytes: 100,
    });
    expect([res.status, res.headers.get("location")]).toEqual([301, "/landing"]);
    expect(landingHits).toBe(0);
  });

  test("an endless body without a length fails the step at HTTP_STEP_MAX_RESPONSE_BYTES, and the read stops there", async () => {
    produced = 0;
    const err = await runHttpStep({ method: "GET", url: at("/endless") }, policy, limits, signal()).catch((e) => e);
    expect(err.message).toBe("response body exceeds the 4096-byte limit");
    await Bun.sleep(300);
    const after = produced;
    await Bun.sleep(300);
    // Bounded by what the socket buffers, not by what the server would send; and it stopped.
    expect(after).toBeLessThan(16 * 1024 * 1024);
    expect(produced).toBe(after);
  });

  test("an endless body to a webhook delivery (truncate) is cut at the cap", async () => {
    const res = await egressFetch(new URL(at("/endless")), policy, {
      method: "POST",
      timeoutMs: 2000,
      maxResponseBytes: 1024,
      truncate: true,
    });
    expect([res.status, res.body.byteLength]).toEqual([200, 1024]);
  });

  test("a slow answer fails the step at its timeout_ms, as a failure a retry may get past", async () => {
    const started = performance.now();
    const err = await runHttpStep({ method: "GET", url: at("/slow-head"), timeout_ms: 300 }, policy, limits, signal()).catch((e) => e);
    expect([err.message, err.retryable]).toEqual(["no response within 300 ms", true]);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test("a body that dribbles in is bounded by the same timeout, not only the head", async () => {
    const started = performance.now();
    const err = await egressFetch(new URL(at("/dribble")), policy, { method: "GET", timeoutMs: 400, maxResponseBytes: 100 }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(EgressError);
    expect(err.message).toBe("no response within 400 ms");
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
