import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { startApi, type TestApi } from "../support/api.ts";

/**
 * A body over BODY_LIMIT_BYTES from a client that writes all of it before reading (Python's urllib
 * and requests do): the answer is still a readable problem+json 413, then the connection closes.
 * Run against both servers (API_TARGET), like the contract suite.
 */
let api: TestApi;
const LIMIT = 64 * 1024;
const DRAIN = 8 * 1024 * 1024;
beforeAll(async () => {
  api = await startApi({ bodyLimitBytes: LIMIT, bodyDrainBytes: DRAIN });
});
afterAll(() => api.stop());

interface Raw {
  /** Everything the server sent, as text. */
  text: string;
  /** The socket error the client met (EPIPE, ECONNRESET), if any. */
  error?: string;
  /** Body bytes the client had handed to the socket when it closed. */
  sent: number;
  /** The client closed after a complete keep-alive answer; otherwise the server closed. */
  closedByClient: boolean;
}

/** Whether `text` holds a whole response with a content-length. */
function complete(text: string): boolean {
  const end = text.indexOf("\r\n\r\n");
  const len = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
  return end > 0 && len !== null && Buffer.byteLength(text.slice(end + 4), "latin1") >= Number(len[1]);
}

/**
 * Raw HTTP/1.1 on one socket: the head, then `body` in one write without waiting for anything
 * (unless `waitForContinue`: then only after a `100 Continue`), then everything until the close.
 */
function rawPost(path: string, body: Uint8Array, opts: { chunked?: boolean; waitForContinue?: boolean } = {}): Promise<Raw> {
  const u = new URL(api.url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname);
    const chunks: Buffer[] = [];
    let error: string | undefined;
    let sent = 0;
    let closedByClient = false;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`the server neither answered nor closed: ${Buffer.concat(chunks).toString("latin1").slice(0, 200)}`));
    }, 30_000);
    const sendBody = () => {
      sent = body.byteLength;
      if (!opts.chunked) return void sock.write(body);
      sock.write(`${body.byteLength.toString(16)}\r\n`);
      sock.write(body);
      sock.write("\r\n0\r\n\r\n");
    };
    sock.on("data", (c: Buffer) => {
      chunks.push(c);
      const text = Buffer.concat(chunks).toString("latin1");
      if (opts.waitForContinue && sent === 0 && text.startsWith("HTTP/1.1 100")) {
        chunks.length = 0;
        sendBody();
      }
      // A complete answer that keeps the connection open: done, the client closes.
      if (/^HTTP\/1\.1 [2-5]/.test(text) && !/\r\nconnection: close\r\n/i.test(text) && complete(text)) {
        closedByClient = true;
        sock.destroy();
      }
    });
    sock.on("error", (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    sock.on("close", () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString("latin1"), error, sent, closedByClient });
    });
    sock.on("connect", () => {
      const framing = opts.chunked ? "transfer-encoding: chunked" : `content-length: ${body.byteLength}`;
      const expect = opts.waitForContinue ? "expect: 100-continue\r\n" : "";
      sock.write(`POST ${path} HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\n${framing}\r\n${expect}\r\n`);
      if (!opts.waitForContinue) sendBody();
    });
  });
}

/**
 * Declares `size` bytes and writes them as fast as the server's side takes them, until the server
 * closes: how many bytes the kernel accepted (Bun.connect reports partial writes, node:net's write
 * callback in Bun does not tell whether bytes left the process).
 */
function pushUntilClosed(path: string, size: number): Promise<number> {
  const u = new URL(api.url);
  const block = new Uint8Array(256 * 1024).fill(0x78);
  let accepted = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server had read ${accepted} bytes and not closed`)), 30_000);
    const pump = (s: Bun.Socket) => {
      while (accepted < size) {
        const n = s.write(block.subarray(0, Math.min(block.byteLength, size - accepted)));
        if (n <= 0) return;
        accepted += n;
      }
    };
    void Bun.connect({
      hostname: u.hostname,
      port: Number(u.port),
      socket: {
        open(s) {
          s.write(`POST ${path} HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\ncontent-length: ${size}\r\n\r\n`);
          pump(s);
        },
        drain: pump,
        data() {},
        close() {
          clearTimeout(timer);
          resolve(accepted);
        },
        error() {},
      },
    }).catch(reject);
  });
}

/** The one response in `text`: its status, lower-cased headers and body. */
function parse(text: string): { status: number; headers: Record<string, string>; body: string } {
  const end = text.indexOf("\r\n\r\n");
  expect(end).toBeGreaterThan(0);
  const [statusLine = "", ...lines] = text.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(":");
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(" ")[1]), headers, body: text.slice(end + 4) };
}

function expect413(r: Raw): void {
  const res = parse(r.text);
  expect(res.status).toBe(413);
  expect(res.headers["content-type"]).toStartWith("application/problem+json");
  expect(res.headers.connection?.toLowerCase()).toBe("close");
  expect(JSON.parse(res.body)).toMatchObject({ status: 413, title: "Payload Too Large" });
  expect(r.closedByClient).toBe(false);
}

const json = (bytes: number) => new TextEncoder().encode(`{"name":"${"x".repeat(bytes - 11)}"}`);

describe("a body over the limit, sent whole before reading", () => {
  test("5 MB with its length declared: a readable 413, no broken pipe, then the close", async () => {
    const r = await rawPost("/api/v1/workflows", json(5 * 1024 * 1024));
    expect(r.error).toBeUndefined();
    expect413(r);
  });

  test("5 MB chunked: the same", async () => {
    const r = await rawPost("/api/v1/workflows", json(5 * 1024 * 1024), { chunked: true });
    expect(r.error).toBeUndefined();
    expect413(r);
  });

  test("with Expect: 100-continue the client still gets the 413 (both servers ask for the body first)", async () => {
    const r = await rawPost("/api/v1/workflows", json(5 * 1024 * 1024), { waitForContinue: true });
    expect([r.error, r.sent]).toEqual([undefined, 5 * 1024 * 1024]);
    expect413(r);
  });

  test("beyond BODY_DRAIN_BYTES the server stops reading and closes", async () => {
    const size = 64 * 1024 * 1024;
    const accepted = await pushUntilClosed("/api/v1/workflows", size);
    // What the server read plus what the two socket buffers hold: far from all of it.
    expect(accepted).toBeLessThan(DRAIN + 24 * 1024 * 1024);
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
  });

  test("a body within the limit on the same kind of socket is accepted", async () => {
    const body = new TextEncoder().encode(
      JSON.stringify({ name: "ok-raw", steps: [{ name: "a", type: "log", config: { message: "m" } }] }),
    );
    const r = await rawPost("/api/v1/workflows", body);
    expect([parse(r.text).status, r.error, r.closedByClient]).toEqual([201, undefined, true]);
  });
});
