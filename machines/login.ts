/**
 * Login flow: a password, then an emailed code when the user enabled MFA or the organization
 * enforces it, unless the device is trusted.
 */
import { and, assign, emit, not, setup } from "xstate";
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
  passwordSchema,
  resendCodeSchema,
  submitCodeSchema,
} from "./shared.js";

export const LOGIN_MACHINE_VERSION = 1;

export interface SubmitCredentialsEvent {
  type: "SUBMIT_CREDENTIALS";
  now: number;
  /** The user with this email, or null when there is none. */
  userId: string | null;
  sentTo: string | null;
  /** False for an unknown email too; the runtime verified a dummy hash then. */
  passwordValid: boolean;
  /** The user enabled MFA or the user's organization enforces it. */
  codeRequired: boolean;
  /** The presented device token names an unrevoked, unexpired trust of this user. */
  deviceTrusted: boolean;
  /** Sign-in for the submitted address is paused after repeated failures. */
  signInPaused: boolean;
  newCode: IssuedCode;
}

export interface LoginSubmitCodeEvent extends SubmitCodeEvent {
  /** Sign-in for the flow's address is paused after repeated failures. */
  signInPaused: boolean;
}

export type LoginEvent =
  | SubmitCredentialsEvent
  | LoginSubmitCodeEvent
  | ResendCodeEvent
  | CancelEvent
  | ExpireEvent;

export const loginEventSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("SUBMIT_CREDENTIALS"),
    email: z.email().max(254),
    password: passwordSchema,
    deviceToken: z.string().min(1).max(256).optional(),
  }),
  submitCodeSchema.extend({ rememberDevice: z.boolean().optional() }),
  resendCodeSchema,
  cancelSchema,
]);
export type LoginClientEvent = z.infer<typeof loginEventSchema>;

export const loginMachine = setup({
  types: {
    context: {} as FlowContext,
    events: {} as LoginEvent,
    emitted: {} as FlowIntent,
    input: {} as FlowContext,
  },
  guards: {
    ...flowGuards,
    isPasswordCorrect: ({ event }) => event.type === "SUBMIT_CREDENTIALS" && event.passwordValid,
    isCodeSkipped: ({ event }) =>
      event.type === "SUBMIT_CREDENTIALS" && (!event.codeRequired || event.deviceTrusted),
    isDeviceRemembered: ({ event }) => event.type === "SUBMIT_CODE" && event.rememberDevice === true,
    isSignInPaused: ({ event }) =>
      (event.type === "SUBMIT_CREDENTIALS" || event.type === "SUBMIT_CODE") && event.signInPaused === true,
    isTrustedDeviceSignIn: ({ event }) =>
      event.type === "SUBMIT_CREDENTIALS" && event.passwordValid && event.deviceTrusted,
  },
  actions: {
    ...createFlowActions<LoginEvent>("login"),
    rememberUser: assign(({ event }) =>
      event.type === "SUBMIT_CREDENTIALS" ? { userId: event.userId, sentTo: event.sentTo } : {},
    ),
    rejectCredentials: emit({ type: "rejected", error: "invalid_credentials" }),
    rejectPaused: emit({ type: "rejected", error: "too_many_failures" }),
    notifyOwnerOfLock: emit({ type: "ownerNotified", notice: "sign_in_locked" }),
    issueSessionAfterPassword: emit(({ event }) => ({
      type: "sessionIssued" as const,
      method:
        event.type === "SUBMIT_CREDENTIALS" && event.codeRequired
          ? ("trusted_device" as const)
          : ("password" as const),
    })),
    issueSessionAfterCode: emit({ type: "sessionIssued", method: "code" }),
    trustDevice: emit({ type: "deviceTrusted" }),
  },
}).createMachine({
  id: "login",
  context: ({ input }) => input,
  initial: "awaitingCredentials",
  states: {
    awaitingCredentials: {
      on: {
        // Only active states expire: a final state never changes again.
        EXPIRE: { guard: "isFlowOverdue", target: "expired", actions: "clearCode" },
        SUBMIT_CREDENTIALS: [
          // A pause stops password guessing, but not the owner on a trusted device.
          { guard: and(["isSignInPaused", not("isTrustedDeviceSignIn")]), actions: "rejectPaused" },
          {
            guard: and(["isPasswordCorrect", "isCodeSkipped"]),
            target: "authenticated",
            actions: ["rememberUser", "issueSessionAfterPassword"],
          },
          {
            guard: "isPasswordCorrect",
            target: "awaitingCode",
            actions: ["rememberUser", "issueCode", "sendCode"],
          },
          {
            guard: "isLastAttempt",
            target: "locked",
            actions: ["spendAttempt", "rejectTooManyAttempts"],
          },
          { actions: ["spendAttempt", "rejectCredentials"] },
        ],
        CANCEL: "cancelled",
      },
    },
    awaitingCode: {
      on: {
        EXPIRE: { guard: "isFlowOverdue", target: "expired", actions: "clearCode" },
        SUBMIT_CODE: [
          // A pause that started after this flow's password stops the flow too.
          { guard: "isSignInPaused", actions: "rejectPaused" },
          // An expired code is rejected before it is compared, and spends no attempt.
          { guard: "isCodeExpired", actions: "rejectExpiredCode" },
          {
            guard: and(["isCodeCorrect", "isDeviceRemembered"]),
            target: "authenticated",
            actions: ["clearCode", "issueSessionAfterCode", "trustDevice"],
          },
          {
            guard: "isCodeCorrect",
            target: "authenticated",
            actions: ["clearCode", "issueSessionAfterCode"],
          },
          {
            // The password was right, so the owner hears that someone else may know it.
            guard: "isLastAttempt",
            target: "locked",
            actions: ["spendAttempt", "clearCode", "rejectTooManyAttempts", "notifyOwnerOfLock"],
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
    authenticated: { type: "final" },
    cancelled: { type: "final" },
    locked: { type: "final" },
    expired: { type: "final" },
  },
});
