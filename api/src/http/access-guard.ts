import type { AccessControl } from "@wf/services/access";
import { Elysia } from "elysia";
import { pathOf } from "./url-path.ts";

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
