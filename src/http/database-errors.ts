/** Recognizes errors that mean the database cannot be reached, so that the edge returns 503. */

const CONNECTION_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  // PostgreSQL: admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections.
  "57P01",
  "57P02",
  "57P03",
  "53300",
]);

/** PostgreSQL rejects text that it cannot store, such as a NUL byte: the client's input. */
const INVALID_TEXT_CODES = new Set(["22021", "22P05"]);

function hasErrorCode(error: unknown, codes: Set<string>): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && codes.has(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

export function isDatabaseUnavailable(error: unknown): boolean {
  return hasErrorCode(error, CONNECTION_ERROR_CODES);
}

/** Recognizes a query that failed on text from the request that PostgreSQL cannot store. */
export function isInvalidText(error: unknown): boolean {
  return hasErrorCode(error, INVALID_TEXT_CODES);
}
