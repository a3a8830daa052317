/**
 * The small HTTP server of the peers whose engine is a library inside the application (DBOS,
 * graphile-worker): it runs in the same Node.js process as the engine. Loaded by Node with type
 * stripping: erasable TypeScript only.
 *
 *   GET  /health      200 once the engine is started
 *   POST /run         {"x": n} -> starts one run, answers once it has completed: {"id", "result"}
 *   POST /run-stream  {"x": n} -> NDJSON: {"accepted": id} as soon as the engine has durably
 *                     accepted the run, then {"result": ...} once it has completed
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { isRunInput, type LoggedLine, type RunInput } from "./workload.ts";

export interface StartedRun {
  id: string;
  /** Resolves once the run has completed, with what step 3 returned. */
  done: Promise<LoggedLine>;
}

export type StartRun = (input: RunInput) => Promise<StartedRun>;

async function readInput(req: IncomingMessage): Promise<RunInput> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  if (!isRunInput(body)) throw new Error('body must be {"x": <number>}');
  return body;
}

/** Set once the server is closing: answers then end their keep-alive connection, so that closing does not wait for the clients. */
let closing = false;

function head(res: ServerResponse, status: number, headers: Record<string, string | number>): void {
  res.writeHead(status, closing ? { ...headers, connection: "close" } : headers);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  head(res, status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function handle(req: IncomingMessage, res: ServerResponse, start: StartRun): Promise<void> {
  if (req.method === "GET" && req.url === "/health") return json(res, 200, { ok: true });
  if (req.method !== "POST" || (req.url !== "/run" && req.url !== "/run-stream")) return json(res, 404, { error: "not found" });
  let input: RunInput;
  try {
    input = await readInput(req);
  } catch (e) {
    return json(res, 400, { error: String(e) });
  }
  const run = await start(input);
  if (req.url === "/run") return json(res, 200, { id: run.id, result: await run.done });
  head(res, 200, { "content-type": "application/x-ndjson" });
  res.write(`${JSON.stringify({ accepted: run.id })}\n`);
  try {
    res.end(`${JSON.stringify({ result: await run.done })}\n`);
  } catch (e) {
    res.end(`${JSON.stringify({ error: String(e) })}\n`);
  }
}

export function serveRuns(port: number, start: StartRun): Promise<Server> {
  const server = createServer((req, res) => {
    handle(req, res, start).catch((e: unknown) => {
      if (!res.headersSent) json(res, 500, { error: String(e) });
      else res.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

/**
 * Stops accepting and ends keep-alive connections as soon as they are idle (Node's close() ends
 * only those idle at the time of the call; a request in flight then would hold its connection
 * for keepAliveTimeout), waiting at most `graceMs` for the requests in progress.
 */
export function closeServer(server: Server, graceMs = 5000): Promise<void> {
  closing = true;
  return new Promise((resolve) => {
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    const t = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(t);
      resolve();
    });
  });
}

/** SIGTERM / SIGINT -> `stop` once, then exit 0 (or 1 if stopping failed). */
export function onTermination(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping`);
    stop().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error("stop failed:", e);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => handler("SIGTERM"));
  process.on("SIGINT", () => handler("SIGINT"));
}
