/**
 * The Restate peer's service, run by Node.js: one Restate service (`PeerBench`) whose handler
 * `run` does three `ctx.run` steps (each journaled by the Restate server before the next one
 * starts), served over HTTP/2 with the SDK's Node handler, as Restate's TypeScript docs serve a
 * service (`restate.serve` does the same on 0.0.0.0; here the HTTP/2 server is made by hand to bind
 * 127.0.0.1 only).
 *
 *   node service.ts   (env: PORT)
 */
import { createServer } from "node:http2";
import * as restate from "@restatedev/restate-sdk";
import { isRunInput, type LoggedLine, logLine, transformOne, transformTwo } from "../workload.ts";

const port = Number(process.env.PORT);
if (!port) throw new Error("PORT is required");

const peerBench = restate.service({
  name: "PeerBench",
  handlers: {
    run: async (ctx: restate.Context, input: unknown): Promise<LoggedLine> => {
      if (!isRunInput(input)) throw new restate.TerminalError('input must be {"x": <number>}');
      const one = await ctx.run("transformOne", () => transformOne(input));
      const two = await ctx.run("transformTwo", () => transformTwo(one));
      const runId = ctx.request().id;
      return await ctx.run("logLine", () => logLine(runId, two));
    },
  },
});

const server = createServer(restate.createEndpointHandler({ services: [peerBench] }));
server.listen(port, "127.0.0.1", () => console.log(`restate service endpoint listening on 127.0.0.1:${port}`));

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const)
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping`);
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  });
