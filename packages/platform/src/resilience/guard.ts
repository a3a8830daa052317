import { unavailable } from "@wf/core/errors";
import { type Breaker, CallTimedOut, CircuitOpen } from "./breaker.ts";

const NAMES = { postgres: "PostgreSQL", redis: "Redis", kafka: "Kafka" } as const;

/**
 * `target` with each of its methods run through `breaker`, for stores whose every method is one
 * call to a dependency the request cannot do without: an outage, a timeout or an open circuit
 * leaves it as a 503 `unavailable` with the time the circuit needs before it probes again.
 */
export function guarded<T extends object>(target: T, breaker: Breaker, isOutage: (err: unknown) => boolean): T {
  const name = NAMES[breaker.dependency];
  const fail = (err: unknown): never => {
    if (err instanceof CircuitOpen) throw unavailable(breaker.dependency, `${name} is unavailable; retry later`, seconds(err.retryAfterMs));
    if (err instanceof CallTimedOut || isOutage(err))
      throw unavailable(breaker.dependency, `${name} did not answer; retry later`, seconds(breaker.retryAfterMs));
    throw err;
  };
  const wrapper = Object.create(target) as Record<string, unknown>;
  for (const key of methodNames(target)) {
    const method = Reflect.get(target, key) as (...args: unknown[]) => PromiseLike<unknown>;
    wrapper[key] = (...args: unknown[]) => breaker.run(() => method.apply(target, args)).catch(fail);
  }
  return wrapper as T;
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

function methodNames(target: object): string[] {
  const proto: unknown = Object.getPrototypeOf(target);
  if (proto === null || typeof proto !== "object") return [];
  return Object.getOwnPropertyNames(proto).filter((k) => k !== "constructor" && typeof Reflect.get(target, k) === "function");
}
