/**
 * Whether a database error means PostgreSQL (or PgBouncer in front of it) cannot serve right now,
 * as opposed to a query the database answered with an error of its own (a constraint, a cast).
 * Only the former opens the circuit and becomes a 503.
 */
const DRIVER_CODES = new Set(["CONNECT_TIMEOUT", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED"]);
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
// 57P01-03: admin/crash shutdown, cannot connect now; 53300: too many connections.
const SERVER_STATES = new Set(["57P01", "57P02", "57P03", "53300"]);

export function isDatabaseOutage(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const code = "code" in err && typeof err.code === "string" ? err.code : "";
  if (DRIVER_CODES.has(code) || SOCKET_CODES.has(code) || SERVER_STATES.has(code)) return true;
  // Class 08, connection exception: also what PgBouncer answers when it cannot reach the server.
  return /^08[0-9A-Z]{3}$/.test(code);
}
