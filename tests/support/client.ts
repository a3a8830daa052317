import { type Client, createClient } from "@wf/client";
import type { TestApi } from "./api.ts";

/** The typed client (@wf/client) of a test's API: its answers are typed by the API's own schemas. */
export const clientOf = (api: TestApi, apiKey?: string): Client => createClient(api.url, { apiKey });

/** A run as GET /api/v1/runs/{id} answers it, typed from the route's schema (not written by hand). */
export type RunBody = NonNullable<Awaited<ReturnType<ReturnType<Client["api"]["v1"]["runs"]>["get"]>>["data"]>;
