import type { ErrorClass } from "../results.ts";

/** The reports' error classes, from what fetch threw. */
export function classifyError(err: unknown): ErrorClass {
  const e = err as { name?: string; code?: string; message?: string };
  const text = `${e?.name ?? ""} ${e?.code ?? ""} ${e?.message ?? ""}`.toLowerCase();
  if (text.includes("timeout") || text.includes("timed out")) return "timeout";
  if (text.includes("refused")) return "connection_refused";
  if (text.includes("reset") || text.includes("closed") || text.includes("socket") || text.includes("disconnect") || text.includes("epipe"))
    return "connection_reset";
  return "other";
}
