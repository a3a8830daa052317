import { describe, expect, test } from "bun:test";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** kafkajs's per-connection request queue, as patched in patches/kafkajs@2.2.4.patch. */
interface RequestQueue {
  throttleCheckTimeoutId: unknown;
  push(r: { entry: Entry; expectResponse: boolean; sendRequest: () => void }): void;
  fulfillRequest(r: { correlationId: number; payload: null; size: number }): void;
  maybeThrottle(ms: number): void;
  checkPendingRequests(): void;
  destroy(): void;
}
interface Entry {
  correlationId: number;
  apiName: string;
  apiKey: number;
  apiVersion: number;
  resolve: (x: unknown) => void;
  reject: (e: unknown) => void;
}

// kafkajs does not export its queue: load the file the runtime loads the client from.
const kafkajsDir = dirname(fileURLToPath(import.meta.resolve("kafkajs")));
const { default: Queue } = (await import(join(kafkajsDir, "src/network/requestQueue/index.js"))) as {
  default: new (o: object) => RequestQueue;
};

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function queue(): { q: RequestQueue; sent: number[]; checks: () => number } {
  const q = new Queue({ maxInFlightRequests: 1, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: "t", broker: "b", logger: quiet });
  const sent: number[] = [];
  let checks = 0;
  const check = q.checkPendingRequests.bind(q);
  q.checkPendingRequests = () => {
    checks++;
    check();
  };
  return { q, sent, checks: () => checks };
}

const request = (sent: number[], correlationId: number) => ({
  entry: { correlationId, apiName: "Produce", apiKey: 0, apiVersion: 7, resolve() {}, reject() {} },
  expectResponse: true,
  sendRequest: () => sent.push(correlationId),
});

describe("kafkajs request queue (patched)", () => {
  test("an emptied queue arms no timer: no 1 ms polling loop per connection", async () => {
    const { q, sent, checks } = queue();
    q.push(request(sent, 1));
    q.push(request(sent, 2)); // waits: one request in flight at most
    expect(sent).toEqual([1]);
    q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    q.fulfillRequest({ correlationId: 2, payload: null, size: 0 });
    expect(sent).toEqual([1, 2]);
    await Bun.sleep(30); // the 10 ms check armed while request 2 waited has fired by now
    const before = checks();
    await Bun.sleep(100);
    // Unpatched, the queue re-checks itself about once a millisecond from here on, forever.
    expect(checks() - before).toBe(0);
    expect(q.throttleCheckTimeoutId).toBeNull();
    q.destroy();
  });

  test("a request held back by a broker's throttle is still sent when the throttle ends", async () => {
    const { q, sent } = queue();
    q.maybeThrottle(40);
    q.push(request(sent, 1));
    expect(sent).toEqual([]);
    await Bun.sleep(80);
    expect(sent).toEqual([1]);
    q.destroy();
  });
});
