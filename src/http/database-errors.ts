/** Recognizes errors that mean the database cannot be reached, so that the edge returns 503. */

const CONNECTION_ERROR_CODES = new Set([
  // Node's socket errors, as postgres.js passes them on.
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  // postgres.js: no connection within `connect_timeout`, or the socket closed under a query
  // (CONNECTION_CLOSED is what a query in flight gets when PostgreSQL stops).
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  // PostgreSQL: admin_shutdown, crash_shutdown, cannot_connect_now (starting up or shutting
  // down), database_dropped, idle_session_timeout, too_many_connections.
  "57P01",
  "57P02",
  "57P03",
  "57P04",
  "57P05",
  "53300",
]);

/**
 * SQLSTATE class 08, connection exception. PgBouncer reports 08P01 for its own failures,
 * such as `query_wait_timeout` while it cannot reach PostgreSQL.
 */
const CONNECTION_EXCEPTION_CLASS = "08";

/** PostgreSQL rejects text that it cannot store, such as a NUL byte: the client's input. */
const INVALID_TEXT_CODES = new Set(["22021", "22P05"]);

function hasErrorCode(error: unknown, matches: (code: string) => boolean): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && matches(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** Tells whether an error, or one of its causes, means the database is unreachable. */
export function isDatabaseUnavailable(error: unknown): boolean {
  return hasErrorCode(
    error,
    (code) => CONNECTION_ERROR_CODES.has(code) || (code.length === 5 && code.startsWith(CONNECTION_EXCEPTION_CLASS)),
  );
}

/** Recognizes a query that failed on text from the request that PostgreSQL cannot store. */
export function isInvalidText(error: unknown): boolean {
  return hasErrorCode(error, (code) => INVALID_TEXT_CODES.has(code));
}
