/**
 * The server http steps call in the worker tests: a real one on 127.0.0.2, the only loopback
 * address the workers' egress policy is opened to (EGRESS_ALLOW). It counts calls per path and
 * answers by the path's first segment: `/flaky/<tag>/<n>` fails (503) its first n calls,
 * `/broken/...` always fails (500), `/slow/<tag>/<ms>?i=` answers `{i}` after ms (counting calls
 * in flight per tag), `/echo...?status=` answers with that status (200 by default) what it got:
 * `{url, method, headers, body}` (url: path and query as sent, body: the text), the url also in an
 * `x-echo-url` header; anything else `{path, n}`, n being the path's call count so far.
 * `received` keeps every /echo request as it came.
 */
export function startTarget() {
  const hits = new Map<string, number>();
  const inFlight = new Map<string, { now: number; most: number }>();
  const received: Array<{ url: string; method: string; headers: Record<string, string>; body: string }> = [];
  const server = Bun.serve({
    hostname: "127.0.0.2",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const path = url.pathname;
      const n = (hits.get(path) ?? 0) + 1;
      hits.set(path, n);
      const [, kind, tag, arg] = path.split("/");
      if (kind === "echo") {
        const echo = { url: `${path}${url.search}`, method: req.method, headers: Object.fromEntries(req.headers), body: await req.text() };
        received.push(echo);
        return Response.json(echo, { status: Number(url.searchParams.get("status") ?? 200), headers: { "x-echo-url": echo.url } });
      }
      if (kind === "flaky" && n <= Number(arg)) return new Response("try again", { status: 503 });
      if (kind === "broken") return new Response("down", { status: 500 });
      if (kind === "slow") {
        const c = inFlight.get(tag!) ?? { now: 0, most: 0 };
        inFlight.set(tag!, c);
        c.most = Math.max(c.most, ++c.now);
        await Bun.sleep(Number(arg));
        c.now--;
        return Response.json({ i: Number(url.searchParams.get("i")) });
      }
      return Response.json({ path, n });
    },
  });
  return { url: `http://127.0.0.2:${server.port}`, hits, inFlight, received, stop: () => server.stop(true) };
}
