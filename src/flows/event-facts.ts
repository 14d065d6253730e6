/**
 * The machine event that the runtime builds from a client event. It replaces the client's
 * fields with facts that need I/O or the server secret: whether the password and the code
 * match, whether the device is trusted, whether sign-in is paused. The module is pure, so
 * these checks are tested without a database.
 */
import type { FlowKind } from "../../machines/index.js";
import { type FlowContext, type IssuedCode, maskEmail } from "../../machines/shared.js";
import { createCode, hashCode, isCodeMatching } from "../crypto.js";
import { type AuthenticatedSession, isRecentlyVerified } from "../sessions.js";
import { type UserWithOrganization, isCodeRequired } from "../users.js";

/** An event as the machines receive it. `now` is milliseconds since the epoch. */
export type MachineEvent = Record<string, unknown> & { type: string; now: number };

/** Inputs that the runtime read for one client event, from which it builds the machine event. */
export interface EventFactSources {
  flowId: string;
  kind: FlowKind;
  /** The context of the flow's current snapshot, which contains the outstanding code's HMAC. */
  context: FlowContext;
  /** The client event, already validated against the kind's event schema. */
  clientEvent: Record<string, unknown> & { type: string };
  /** The password check made before the row lock, or null for events without a password. */
  slow: { passwordValid: boolean } | null;
  /** The user read under the row lock, or null for an unknown email. */
  user: UserWithOrganization | null;
  /** The unrevoked, unexpired trust that the presented device token names, if any. */
  trust: { id: string } | null;
  /** End of the sign-in pause of the flow's address, or null when it is not paused. */
  pausedUntil: Date | null;
  /** The session that sent the event, if any. */
  auth: AuthenticatedSession | null;
  now: Date;
  codeKey: Buffer;
  recentVerificationMs: number;
}

/**
 * Builds the machine event for a client event. SUBMIT_CREDENTIALS, SUBMIT_PASSWORD and
 * RESEND_CODE also get a new code and its HMAC, because any of their transitions may send one.
 */
export function buildMachineEvent(sources: EventFactSources): MachineEvent {
  const { flowId, kind, context, clientEvent, slow, user, trust, pausedUntil, auth, now, codeKey } = sources;
  const event: MachineEvent = { type: clientEvent.type, now: now.getTime() };

  if (clientEvent.type === "SUBMIT_CREDENTIALS") {
    Object.assign(event, {
      userId: user?.user.id ?? null,
      sentTo: user ? maskEmail(user.user.email) : null,
      passwordValid: slow?.passwordValid === true && user !== null,
      codeRequired: user ? isCodeRequired(user) : true,
      deviceTrusted: trust !== null,
      signInPaused: pausedUntil !== null,
    });
  }
  if (clientEvent.type === "SUBMIT_PASSWORD") {
    Object.assign(event, {
      passwordValid: slow?.passwordValid === true,
      sentTo: user ? maskEmail(user.user.email) : "",
      recentlyVerified: auth ? isRecentlyVerified(auth.session, now, sources.recentVerificationMs) : false,
      mfaEnforced: user?.organization?.mfaEnforced === true,
    });
  }
  if (kind === "disablement" && (clientEvent.type === "SUBMIT_CODE" || clientEvent.type === "RESEND_CODE")) {
    // Enforcement may have started since the password, so it is read again at every step.
    event.mfaEnforced = user?.organization?.mfaEnforced === true;
  }
  if (clientEvent.type === "SUBMIT_CODE") {
    Object.assign(event, {
      codeMatches: isCodeMatching(codeKey, flowId, String(clientEvent.code), context.codeHash),
      rememberDevice: clientEvent.rememberDevice === true,
      signInPaused: pausedUntil !== null,
    });
  }
  if (["SUBMIT_CREDENTIALS", "SUBMIT_PASSWORD", "RESEND_CODE"].includes(clientEvent.type)) {
    const code = createCode();
    event.newCode = { code, hash: hashCode(codeKey, flowId, code) } satisfies IssuedCode;
  }
  return event;
}
