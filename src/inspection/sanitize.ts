/**
 * Allow-lists of what a flow may show an inspector. The Stately inspector runs in a browser
 * page of stately.ai, so only listed fields with plain values leave the process: a field added
 * to a context or an event later stays inside until it is listed here.
 */
import { loggableFlowId } from "../logger.js";

/** Stands for a value that the machine uses but that is a secret: a code's HMAC or a new code. */
export const REDACTED = "[redacted]";

const CONTEXT_FIELDS = [
  "userId",
  "sentTo",
  "expiresAt",
  "wrongSubmissions",
  "codeExpiresAt",
  "codesSent",
  "resendAvailableAt",
];

const LIMIT_FIELDS = ["codeTtlMs", "flowTtlMs", "maxWrongSubmissions", "maxCodesPerFlow", "resendCooldownMs"];

/**
 * The event type, the server's `now`, the facts that the runtime adds before an event reaches
 * the machine, and the journal's `outcome`. Client fields such as `email`, `password`, `code` and
 * `deviceToken` are not among them.
 */
const EVENT_FIELDS = [
  "type",
  "now",
  "outcome",
  "userId",
  "sentTo",
  "passwordValid",
  "codeRequired",
  "deviceTrusted",
  "signInPaused",
  "codeMatches",
  "rememberDevice",
  "recentlyVerified",
  "mfaEnforced",
];

type PlainValue = string | number | boolean | null;

/** Copies the listed fields whose values are strings, numbers, booleans or null. */
function pickPlainFields(source: Record<string, unknown>, fields: string[]): Record<string, PlainValue> {
  const picked: Record<string, PlainValue> = {};
  for (const field of fields) {
    const value = source[field];
    if (value === null || ["string", "number", "boolean"].includes(typeof value)) {
      picked[field] = value as PlainValue;
    }
  }
  return picked;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

/** Reduces a flow context to its allow-listed fields; the code's HMAC shows only whether there is one. */
export function toInspectedContext(context: unknown): Record<string, unknown> {
  const source = asRecord(context);
  const inspected: Record<string, unknown> = pickPlainFields(source, CONTEXT_FIELDS);
  if ("limits" in source) inspected.limits = pickPlainFields(asRecord(source.limits), LIMIT_FIELDS);
  if ("codeHash" in source) inspected.codeHash = source.codeHash === null ? null : REDACTED;
  return inspected;
}

/** Reduces an event to its allow-listed fields; a freshly issued code shows only that there is one. */
export function toInspectedEvent(event: unknown): { type: string } & Record<string, unknown> {
  const source = asRecord(event);
  const inspected: Record<string, unknown> = pickPlainFields(source, EVENT_FIELDS);
  if ("newCode" in source) inspected.newCode = REDACTED;
  return { ...inspected, type: typeof source.type === "string" ? source.type : "unknown" };
}

/**
 * Returns the inspector's session id of a flow. A login flow id is its client's only
 * credential, so a login flow appears under the first 8 characters, as in the logs.
 */
export function inspectionSessionId(kind: string, flowId: string): string {
  return loggableFlowId(kind, flowId);
}
