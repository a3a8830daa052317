import { type Client, createClient } from "@wf/client";

// The key is typed once and kept for the tab (sessionStorage), never in localStorage: closing the
// tab forgets it.
const KEY = "wf.apiKey";
export const apiKey = {
  get: (): string | undefined => sessionStorage.getItem(KEY) ?? undefined,
  set: (key: string) => (key ? sessionStorage.setItem(KEY, key) : sessionStorage.removeItem(KEY)),
};

export const client: Client = createClient(location.origin, { apiKey: apiKey.get });

type RunsApi = Client["api"]["v1"]["runs"];
type WorkflowsApi = Client["api"]["v1"]["workflows"];
type Data<T extends (...a: never[]) => Promise<{ data: unknown }>> = NonNullable<Awaited<ReturnType<T>>["data"]>;
export type Run = Data<ReturnType<RunsApi>["get"]>;
export type RunPage = Data<RunsApi["get"]>;
export type Workflow = Data<ReturnType<WorkflowsApi>["get"]>;
export type WorkflowPage = Data<WorkflowsApi["get"]>;
export type Schedule = Data<ReturnType<Client["api"]["v1"]["schedules"]>["get"]>;
export type StepResult = Run["steps"][number];

/** An answer's data, or an Error carrying the problem's detail (what the console shows). */
export async function must<T>(call: Promise<{ data: T | null; error: { status: unknown; value: unknown } | null }>): Promise<T> {
  const { data, error } = await call;
  if (error || data === null) {
    const v = error?.value as { detail?: string; title?: string } | undefined;
    throw new Error(`${String(error?.status ?? "error")}: ${v?.detail ?? v?.title ?? JSON.stringify(v)}`);
  }
  return data;
}
