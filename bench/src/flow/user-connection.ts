import type { Socket } from "bun";

export interface UserResponse {
  status: number;
  /** Raw bytes: a load generator decodes only the responses it needs. */
  body: Buffer;
}

/** A request that failed below HTTP; the message carries the words `classifyError` sorts by. */
export class ConnectionError extends Error {}

const CRLF2 = Buffer.from("\r\n\r\n");

interface InFlight {
  resolve: (a: UserResponse) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * One virtual user's HTTP/1.1 connection, opened at its first request and kept alive across its
 * steps, as a browser or an aiohttp session (the reports' runner) keeps it. Bun's `fetch` cannot
 * model this: it parks at most 64 idle connections per process (oven-sh/bun#42608), so at 10,000
 * users nearly every request opened a new connection, and the bursts of connects overflowed the
 * servers' accept queues (Bun.serve listens with a fixed backlog of 512): the SYNs dropped there
 * were retransmitted a second later, which put about a second of the load generator's own
 * making into most requests. undici, which could hold the connections, is replaced in Bun by a
 * stub. One request at a time per connection (no pipelining), responses with content-length or
 * chunked bodies; `connection: close` from the server makes the next request reconnect.
 */
export class UserConnection {
  private socket: Socket<undefined> | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private inflight: InFlight | undefined;
  private unsent: Buffer | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  async request(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    timeoutMs: number,
  ): Promise<UserResponse> {
    if (this.inflight) throw new Error("one request at a time per connection");
    const deadline = Date.now() + timeoutMs;
    const socket = this.socket ?? (await this.connect(timeoutMs));
    const payload = body === undefined ? undefined : Buffer.from(body);
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${this.host}:${this.port}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    if (payload) head += `content-length: ${payload.length}\r\n`;
    const bytes = payload ? Buffer.concat([Buffer.from(`${head}\r\n`), payload]) : Buffer.from(`${head}\r\n`);
    return new Promise<UserResponse>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new ConnectionError("request timed out")), Math.max(1, deadline - Date.now()));
      this.inflight = { resolve, reject, timer };
      this.write(socket, bytes);
    });
  }

  close(): void {
    // Forgotten first: ending it may call its close handler at once, which must not see it as ours.
    const s = this.socket;
    this.socket = undefined;
    s?.end();
  }

  private connect(timeoutMs: number): Promise<Socket<undefined>> {
    const conn = this;
    const connecting = Bun.connect({
      hostname: this.host,
      port: this.port,
      socket: {
        data(s, chunk) {
          if (s !== conn.socket) return;
          conn.buf = conn.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([conn.buf, chunk]);
          try {
            conn.parse();
          } catch (err) {
            conn.fail(err as Error);
          }
        },
        drain(s) {
          const rest = conn.unsent;
          conn.unsent = undefined;
          if (rest && s === conn.socket) conn.write(s, rest);
        },
        // A socket this connection already let go of (a response with `connection: close`) is no news.
        close(s) {
          if (s === conn.socket) conn.fail(new ConnectionError("connection reset: closed by the server"));
        },
        error(s, err) {
          if (s === conn.socket) conn.fail(new ConnectionError(`connection reset: ${err.message}`));
        },
      },
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectionError("connect timed out")), timeoutMs);
    });
    return Promise.race([connecting, timeout])
      .then((s) => {
        this.socket = s;
        this.buf = Buffer.alloc(0);
        return s;
      })
      .catch((err: unknown) => {
        const e = err as { code?: string; message?: string };
        throw err instanceof ConnectionError ? err : new ConnectionError(`${e.code ?? ""} ${e.message ?? String(err)}`.trim());
      })
      .finally(() => clearTimeout(timer));
  }

  private write(socket: Socket<undefined>, bytes: Buffer): void {
    const n = socket.write(bytes);
    if (n < bytes.length) this.unsent = bytes.subarray(Math.max(0, n));
  }

  private fail(err: Error): void {
    this.close();
    const f = this.inflight;
    if (!f) return;
    this.inflight = undefined;
    clearTimeout(f.timer);
    f.reject(err);
  }

  /** Completes the request in flight once its whole response is in the buffer. */
  private parse(): void {
    const f = this.inflight;
    if (!f) return;
    const end = this.buf.indexOf(CRLF2);
    if (end < 0) return;
    const lines = this.buf.toString("latin1", 0, end).split("\r\n");
    const status = Number(lines[0]!.slice(9, 12));
    let length = -1;
    let chunked = false;
    let close = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line
        .slice(colon + 1)
        .trim()
        .toLowerCase();
      if (name === "content-length") length = Number(value);
      else if (name === "transfer-encoding") chunked = value.includes("chunked");
      else if (name === "connection") close = value === "close";
    }
    const start = end + 4;
    let body: Buffer | undefined;
    if (chunked) body = dechunk(this.buf, start);
    else if (length >= 0) body = this.buf.length >= start + length ? this.buf.subarray(start, start + length) : undefined;
    else if (status === 204 || status === 304) body = Buffer.alloc(0);
    else {
      this.fail(new ConnectionError("response without a length: cannot keep the connection"));
      return;
    }
    if (!body) return;
    this.inflight = undefined;
    clearTimeout(f.timer);
    this.buf = Buffer.alloc(0);
    if (close) this.close();
    f.resolve({ status, body });
  }
}

/** The body of a chunked response starting at `from`, or undefined while it is incomplete. */
function dechunk(buf: Buffer, from: number): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const eol = buf.indexOf("\r\n", at);
    if (eol < 0) return undefined;
    const size = parseInt(buf.toString("latin1", at, eol), 16);
    if (Number.isNaN(size)) throw new ConnectionError("malformed chunked response");
    const data = eol + 2;
    if (size === 0) return buf.length >= data + 2 ? Buffer.concat(parts) : undefined; // no trailers
    if (buf.length < data + size + 2) return undefined;
    parts.push(buf.subarray(data, data + size));
    at = data + size + 2;
  }
}
