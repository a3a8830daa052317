import dc from "node:diagnostics_channel";

/**
 * Gives node:diagnostics_channel's TracingChannel the `hasSubscribers` getter Node has had since
 * 20.13, where the runtime lacks it (Bun 1.4: oven-sh/bun#27805). Libraries check it before
 * paying for a trace; ioredis 6 reads a missing one as "maybe subscribed" and wrapped every
 * command in `tracePromise`, with its context object and an extra promise, for no subscriber.
 * Same meaning as Node's: any of the five channels has a subscriber. Does nothing on Node.
 */
export function ensureTracingChannelHasSubscribers(): void {
  const proto: object = Object.getPrototypeOf(dc.tracingChannel("wf:probe"));
  if ("hasSubscribers" in proto) return;
  Object.defineProperty(proto, "hasSubscribers", {
    configurable: true,
    get(this: dc.TracingChannel<object, object>) {
      return (
        this.start.hasSubscribers ||
        this.end.hasSubscribers ||
        this.asyncStart.hasSubscribers ||
        this.asyncEnd.hasSubscribers ||
        this.error.hasSubscribers
      );
    },
  });
}
