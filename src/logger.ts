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
      redact: {
        paths: ["password", "code", "token", "*.password", "*.code", "*.token", "*.authorization"],
        censor: "[redacted]",
      },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** Shortens a login flow id, which is its client's only credential, for logs. */
export function loggableFlowId(kind: string, id: string): string {
  return kind === "login" ? id.slice(0, 8) : id;
}
