/**
 * Disablement flow: a signed-in user re-enters the password and, unless the session is
 * recently verified, a fresh code, then MFA is off.
 */
import { and, assign, emit, setup } from "xstate";
import { z } from "zod";
import {
  type CancelEvent,
  type ExpireEvent,
  type FlowContext,
  type FlowIntent,
  type IssuedCode,
  type ResendCodeEvent,
  type SubmitCodeEvent,
  cancelSchema,
  createFlowActions,
  flowGuards,
  resendCodeSchema,
  submitCodeSchema,
  submitPasswordSchema,
} from "./shared.js";

export const DISABLEMENT_MACHINE_VERSION = 1;

export interface DisablementSubmitPasswordEvent {
  type: "SUBMIT_PASSWORD";
  now: number;
  passwordValid: boolean;
  /** The session sending the event submitted a code at sign-in in the last 15 minutes. */
  recentlyVerified: boolean;
  /** The user's organization enforces MFA, read from the database at this event. */
  mfaEnforced: boolean;
  sentTo: string;
  newCode: IssuedCode;
}

/** Enforcement can start after the password, so the code events carry it too. */
interface EnforcementFact {
  mfaEnforced: boolean;
}

export type DisablementEvent =
  | DisablementSubmitPasswordEvent
  | (SubmitCodeEvent & EnforcementFact)
  | (ResendCodeEvent & EnforcementFact)
  | CancelEvent
  | ExpireEvent;

export const disablementEventSchema = z.discriminatedUnion("type", [
  submitPasswordSchema,
  submitCodeSchema,
  resendCodeSchema,
  cancelSchema,
]);
export type DisablementClientEvent = z.infer<typeof disablementEventSchema>;

export const disablementMachine = setup({
  types: {
    context: {} as FlowContext,
    events: {} as DisablementEvent,
    emitted: {} as FlowIntent,
    input: {} as FlowContext,
  },
  guards: {
    ...flowGuards,
    isMfaEnforced: ({ event }) => "mfaEnforced" in event && event.mfaEnforced,
    isPasswordCorrect: ({ event }) => event.type === "SUBMIT_PASSWORD" && event.passwordValid,
    isRecentlyVerified: ({ event }) => event.type === "SUBMIT_PASSWORD" && event.recentlyVerified,
  },
  actions: {
    ...createFlowActions<DisablementEvent>("disablement"),
    rememberAddress: assign(({ event }) =>
      event.type === "SUBMIT_PASSWORD" ? { sentTo: event.sentTo } : {},
    ),
    rejectEnforced: emit({ type: "rejected", error: "mfa_enforced_by_organization" }),
    rejectPassword: emit({ type: "rejected", error: "invalid_password" }),
    disableMfa: emit({ type: "mfaChanged", enabled: false }),
    revokeTrustedDevices: emit({ type: "trustedDevicesRevoked" }),
    endOtherSessions: emit({ type: "otherSessionsEnded" }),
  },
}).createMachine({
  id: "disablement",
  context: ({ input }) => input,
  initial: "awaitingPassword",
  states: {
    awaitingPassword: {
      on: {
        // Only active states expire: a final state never changes again.
        EXPIRE: { guard: "isFlowOverdue", target: "expired", actions: "clearCode" },
        SUBMIT_PASSWORD: [
          // Enforcement is checked before the password, so a refused flow spends nothing.
          { guard: "isMfaEnforced", actions: "rejectEnforced" },
          {
            guard: and(["isPasswordCorrect", "isRecentlyVerified"]),
            target: "disabled",
            actions: ["disableMfa", "revokeTrustedDevices", "endOtherSessions"],
          },
          {
            guard: "isPasswordCorrect",
            target: "awaitingCode",
            actions: ["rememberAddress", "issueCode", "sendCode"],
          },
          {
            guard: "isLastAttempt",
            target: "locked",
            actions: ["spendAttempt", "rejectTooManyAttempts"],
          },
          { actions: ["spendAttempt", "rejectPassword"] },
        ],
        CANCEL: "cancelled",
      },
    },
    awaitingCode: {
      on: {
        EXPIRE: { guard: "isFlowOverdue", target: "expired", actions: "clearCode" },
        SUBMIT_CODE: [
          { guard: "isMfaEnforced", actions: "rejectEnforced" },
          { guard: "isCodeExpired", actions: "rejectExpiredCode" },
          {
            guard: "isCodeCorrect",
            target: "disabled",
            actions: ["clearCode", "disableMfa", "revokeTrustedDevices", "endOtherSessions"],
          },
          {
            guard: "isLastAttempt",
            target: "locked",
            actions: ["spendAttempt", "clearCode", "rejectTooManyAttempts"],
          },
          { actions: ["spendAttempt", "rejectCode"] },
        ],
        RESEND_CODE: [
          { guard: "isMfaEnforced", actions: "rejectEnforced" },
          { guard: "isResendLimitReached", actions: "rejectResendLimit" },
          { guard: "isResendTooSoon", actions: "rejectResendTooSoon" },
          { actions: ["issueCode", "sendCode"] },
        ],
        CANCEL: { target: "cancelled", actions: "clearCode" },
      },
    },
    disabled: { type: "final" },
    cancelled: { type: "final" },
    locked: { type: "final" },
    expired: { type: "final" },
  },
});
