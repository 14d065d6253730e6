/** Enrollment flow: a signed-in user re-enters the password, then a code turns MFA on. */
import { assign, emit, setup } from "xstate";
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

export const ENROLLMENT_MACHINE_VERSION = 1;

export interface EnrollmentSubmitPasswordEvent {
  type: "SUBMIT_PASSWORD";
  now: number;
  passwordValid: boolean;
  sentTo: string;
  newCode: IssuedCode;
}

export type EnrollmentEvent =
  | EnrollmentSubmitPasswordEvent
  | SubmitCodeEvent
  | ResendCodeEvent
  | CancelEvent
  | ExpireEvent;

export const enrollmentEventSchema = z.discriminatedUnion("type", [
  submitPasswordSchema,
  submitCodeSchema,
  resendCodeSchema,
  cancelSchema,
]);
export type EnrollmentClientEvent = z.infer<typeof enrollmentEventSchema>;

export const enrollmentMachine = setup({
  types: {
    context: {} as FlowContext,
    events: {} as EnrollmentEvent,
    emitted: {} as FlowIntent,
    input: {} as FlowContext,
  },
  guards: {
    ...flowGuards,
    isPasswordCorrect: ({ event }) => event.type === "SUBMIT_PASSWORD" && event.passwordValid,
  },
  actions: {
    ...createFlowActions<EnrollmentEvent>("enrollment"),
    rememberAddress: assign(({ event }) =>
      event.type === "SUBMIT_PASSWORD" ? { sentTo: event.sentTo } : {},
    ),
    rejectPassword: emit({ type: "rejected", error: "invalid_password" }),
    enableMfa: emit({ type: "mfaChanged", enabled: true }),
    endOtherSessions: emit({ type: "otherSessionsEnded" }),
  },
}).createMachine({
  id: "enrollment",
  context: ({ input }) => input,
  initial: "awaitingPassword",
  states: {
    awaitingPassword: {
      on: {
        // Only active states expire: a final state never changes again.
        EXPIRE: { guard: "isFlowOverdue", target: "expired", actions: "clearCode" },
        SUBMIT_PASSWORD: [
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
          { guard: "isCodeExpired", actions: "rejectExpiredCode" },
          {
            guard: "isCodeCorrect",
            target: "enabled",
            actions: ["clearCode", "enableMfa", "endOtherSessions"],
          },
          {
            guard: "isLastAttempt",
            target: "locked",
            actions: ["spendAttempt", "clearCode", "rejectTooManyAttempts"],
          },
          { actions: ["spendAttempt", "rejectCode"] },
        ],
        RESEND_CODE: [
          { guard: "isResendLimitReached", actions: "rejectResendLimit" },
          { guard: "isResendTooSoon", actions: "rejectResendTooSoon" },
          { actions: ["issueCode", "sendCode"] },
        ],
        CANCEL: { target: "cancelled", actions: "clearCode" },
      },
    },
    enabled: { type: "final" },
    cancelled: { type: "final" },
    locked: { type: "final" },
    expired: { type: "final" },
  },
});
