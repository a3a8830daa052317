import { availableParallelism } from "node:os";

/**
 * The Node reference's own settings (everything else is the shared config): its port, how many
 * replicas `bun run api:node` starts, and the first of its replicas' own metrics ports (0 = none). A bad value stops the process naming the variable.
 */
function read(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "" || (name === "NODE_API_REPLICAS" && raw === "auto")) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`api-node: ${name}=${JSON.stringify(raw)} is not valid: expected an integer from ${min} to ${max}`);
    process.exit(2);
  }
  return n;
}

export const nodePort = () => read("NODE_PORT", 3001, 0, 65535);
export const nodeReplicas = () => read("NODE_API_REPLICAS", availableParallelism(), 1, 256);
export const nodeMetricsPort = () => read("NODE_METRICS_PORT", 0, 0, 65535);
