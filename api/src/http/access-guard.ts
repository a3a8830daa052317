import type { AccessControl } from "@wf/domain";
import { Elysia } from "elysia";

const pathOf = (url: string): string => {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const q = url.indexOf("?", start);
  return url.slice(start, q === -1 ? undefined : q);
};

/**
 * API keys and rate limits, checked before the body is read. Without API_KEYS_REQUIRED there is
 * no hook at all, so the open configuration pays nothing per request.
 */
export const accessGuard = (access: AccessControl | undefined) => {
  const plugin = new Elysia({ name: "access-guard" });
  if (!access) return plugin;
  return plugin.onRequest(async ({ request }) => {
    if (access.guards(pathOf(request.url))) await access.admit(request.headers.get("authorization"));
  });
};
