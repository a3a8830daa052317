import type { Scope } from "@wf/core/scopes";
import { routeScope } from "@wf/services/access";

/** What the table needs of an Elysia route: its method, path pattern and `detail`. */
export interface ScopedRoute {
  method: string;
  path: string;
  hooks?: { detail?: unknown };
}

interface Entry {
  segments: string[];
  scope: Scope | undefined;
}

/**
 * The scope each route needs (see `requiresScope`), found by method and path before routing, so
 * a key without it is refused before the body is read. A static segment wins over a parameter,
 * as in the router; a path no route serves needs none (its 404 or 405 follows).
 */
export class RouteScopes {
  private readonly byMethod = new Map<string, Entry[]>();

  constructor(routes: readonly ScopedRoute[]) {
    for (const r of routes) {
      const detail = r.hooks?.detail as Record<string, unknown> | undefined;
      const entries = this.byMethod.get(r.method) ?? [];
      entries.push({ segments: r.path.split("/"), scope: routeScope(r.path, detail?.["x-required-scope"]) });
      this.byMethod.set(r.method, entries);
    }
  }

  of(method: string, path: string): Scope | undefined {
    const segments = path.split("/");
    let best: Entry | undefined;
    for (const e of this.byMethod.get(method === "HEAD" ? "GET" : method) ?? [])
      if (matches(e.segments, segments) && (!best || moreSpecific(e.segments, best.segments))) best = e;
    return best?.scope;
  }
}

const isParam = (s: string) => s.startsWith(":") || s === "*";

const matches = (pattern: string[], path: string[]): boolean =>
  pattern.length === path.length && pattern.every((p, i) => (isParam(p) ? path[i] !== "" : p === path[i]));

/** The first segment where they differ decides: static beats parameter. */
function moreSpecific(a: string[], b: string[]): boolean {
  for (let i = 0; i < a.length; i++) if (isParam(a[i]!) !== isParam(b[i]!)) return !isParam(a[i]!);
  return false;
}
