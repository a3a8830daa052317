import { MethodNotAllowed } from "./http-error.ts";

interface Route {
  segments: string[];
  methods: Set<string>;
}

/**
 * The routes a server has, by path pattern (`/api/v1/runs/:id`), so that a request its router did
 * not match can be told apart: a path nobody serves is a 404, a served path asked with another
 * method a 405 with the methods it does answer. Only the not-found path consults it.
 */
export class RouteTable {
  private readonly routes = new Map<string, Route>();

  add(method: string, pattern: string): this {
    const route = this.routes.get(pattern) ?? { segments: pattern.split("/"), methods: new Set<string>() };
    route.methods.add(method.toUpperCase());
    // Both servers answer HEAD wherever they answer GET.
    if (route.methods.has("GET")) route.methods.add("HEAD");
    this.routes.set(pattern, route);
    return this;
  }

  /** The 405 for `method` on `path` when some route serves that path with other methods; else undefined (a 404). */
  methodNotAllowed(method: string, path: string): MethodNotAllowed | undefined {
    const segments = path.split("/");
    const allow = new Set<string>();
    for (const route of this.routes.values()) if (matches(route.segments, segments)) for (const m of route.methods) allow.add(m);
    if (allow.size === 0 || allow.has(method.toUpperCase())) return undefined;
    return new MethodNotAllowed([...allow].sort());
  }
}

const matches = (pattern: string[], path: string[]): boolean =>
  pattern.length === path.length && pattern.every((p, i) => (p.startsWith(":") ? path[i] !== "" : p === path[i]));
