/** Structured logging: one JSON object per line, on standard output. */
import { pino } from "pino";

export type Logger = pino.Logger;

/**
 * Creates the service's logger; redaction is a second guard, since no secret is logged. Lines
 * go to standard output asynchronously: under load, lines written while a write is in
 * progress leave in one system call, and pino flushes what is left when the process exits.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: serializeError },
      redact: {
        paths: ["password", "code", "token", "*.password", "*.code", "*.token", "*.authorization"],
        censor: "[redacted]",
      },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** The line that a Drizzle `DrizzleQueryError` adds to its message: `\nparams: a,b`. */
const QUERY_PARAMETERS_LINE = /\nparams: [^\n]*/g;

/**
 * Serializes an error without the parameters of a failed query, which can hold a login flow id
 * (its client's only credential) or an address.
 */
function serializeError(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  if (!serialized || typeof serialized !== "object") return serialized;
  delete serialized.params;
  // An error's `code` (ECONNREFUSED, a SQLSTATE) is no secret, but the redaction of `*.code`
  // would hide it, so it is logged as `errorCode`.
  if (typeof serialized.code === "string" || typeof serialized.code === "number") {
    serialized.errorCode = serialized.code;
    delete serialized.code;
  }
  // Drizzle also writes the parameters into the message, and so into the stack.
  for (const field of ["message", "stack"] as const) {
    const text = serialized[field];
    if (typeof text === "string") serialized[field] = text.replace(QUERY_PARAMETERS_LINE, "");
  }
  if (serialized.cause && typeof serialized.cause === "object") {
    serialized.cause = serializeError(serialized.cause);
  }
  return serialized;
}

/** Shortens a login flow id, which is its client's only credential, for logs. */
export function loggableFlowId(kind: string, id: string): string {
  return kind === "login" ? id.slice(0, 8) : id;
}
