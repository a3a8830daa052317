import { afterAll, describe, expect, test } from "bun:test";
import { classifyError } from "./classify.ts";
import { UserConnection } from "./user-connection.ts";

const ports: number[] = [];
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req, srv) {
    const url = new URL(req.url);
    ports.push(srv.requestIP(req)!.port);
    if (url.pathname === "/echo")
      return Response.json({ method: req.method, body: await req.text(), type: req.headers.get("content-type") }, { status: 201 });
    if (url.pathname === "/chunked")
      return new Response(
        new ReadableStream({
          async start(c) {
            c.enqueue(new TextEncoder().encode('{"parts":'));
            await Bun.sleep(5);
            c.enqueue(new TextEncoder().encode("[1,2,3]}"));
            c.close();
          },
        }),
      );
    if (url.pathname === "/close") return new Response("{}", { headers: { connection: "close" } });
    if (url.pathname === "/slow") await Bun.sleep(500);
    if (url.pathname === "/missing") return new Response('{"title":"Not Found"}', { status: 404 });
    return Response.json({ ok: true });
  },
});
afterAll(() => server.stop(true));

describe("UserConnection", () => {
  test("one connection carries every request of a user, with bodies and statuses", async () => {
    ports.length = 0;
    const c = new UserConnection("127.0.0.1", server.port!);
    const a = await c.request("GET", "/", {}, undefined, 2000);
    const b = await c.request("POST", "/echo", { "content-type": "application/json" }, '{"é":1}', 2000);
    const d = await c.request("GET", "/missing", {}, undefined, 2000);
    c.close();
    expect({ status: a.status, body: a.body.toString() }).toEqual({ status: 200, body: '{"ok":true}' });
    expect(b.status).toBe(201);
    expect(JSON.parse(b.body.toString())).toEqual({ method: "POST", body: '{"é":1}', type: "application/json" });
    expect(d.status).toBe(404);
    expect(new Set(ports).size).toBe(1);
  });

  test("a chunked answer is put together", async () => {
    const c = new UserConnection("127.0.0.1", server.port!);
    expect(JSON.parse((await c.request("GET", "/chunked", {}, undefined, 2000)).body.toString())).toEqual({ parts: [1, 2, 3] });
    expect((await c.request("GET", "/", {}, undefined, 2000)).status).toBe(200);
    c.close();
  });

  test("after connection: close the next request opens a new connection", async () => {
    ports.length = 0;
    const c = new UserConnection("127.0.0.1", server.port!);
    await c.request("GET", "/close", {}, undefined, 2000);
    await c.request("GET", "/", {}, undefined, 2000);
    c.close();
    expect(new Set(ports).size).toBe(2);
  });

  test("a timeout and a refused connection are told apart", async () => {
    const slow = new UserConnection("127.0.0.1", server.port!);
    const timedOut = await slow.request("GET", "/slow", {}, undefined, 50).catch((e: unknown) => e);
    expect(classifyError(timedOut)).toBe("timeout");
    const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    const closedPort = probe.port!;
    probe.stop(true);
    const refused = await new UserConnection("127.0.0.1", closedPort).request("GET", "/", {}, undefined, 2000).catch((e: unknown) => e);
    expect(classifyError(refused)).toBe("connection_refused");
  });
});
