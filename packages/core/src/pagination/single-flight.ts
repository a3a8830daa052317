/**
 * Concurrent calls with the same key share one execution: the first starts it, the others get its
 * promise until it settles. Under load many clients ask for the same first page of a list at once
 * (the flow of the reports ends with GET /runs?limit=50): they are answered by one query instead of
 * one each. Nothing is kept after the call settles, so no answer is older than the request that
 * joined it: a joiner sees the list as of a query that started at most one query's time earlier.
 */
export class SingleFlight<T> {
  private readonly calls = new Map<string, Promise<T>>();

  run(key: string, fn: () => Promise<T>): Promise<T> {
    const running = this.calls.get(key);
    if (running) return running;
    const call = fn().finally(() => this.calls.delete(key));
    this.calls.set(key, call);
    return call;
  }
}
