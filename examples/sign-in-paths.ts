import {
  type LoginSubmitCodeEvent,
  type SubmitCredentialsEvent,
  createFlowContext,
  loginMachine,
} from "mfa-email-service/machines";
import { createTestModel } from "xstate/graph";

const now = Date.parse("2026-01-05T09:00:00Z");
const credentials = {
  type: "SUBMIT_CREDENTIALS",
  now,
  userId: "user-1",
  sentTo: "a***@example.com",
  codeRequired: true,
  deviceTrusted: false,
  signInPaused: false,
  newCode: { code: "123456", hash: "hash-1" },
} as const;

/** Sign-in with MFA on: a right or wrong password, then a right or wrong code, or cancel. */
export const signInModel = createTestModel(loginMachine, {
  input: createFlowContext(now, null),
  events: [
    { ...credentials, passwordValid: true },
    { ...credentials, passwordValid: false },
    { type: "SUBMIT_CODE", now, codeMatches: true, signInPaused: false },
    { type: "SUBMIT_CODE", now, codeMatches: false, signInPaused: false },
    { type: "CANCEL", now },
  ],
});

/** The sign-in page as a UI test drives it: its actions, and checks of what it shows. */
export interface SignInPage {
  submitPassword(right: boolean): Promise<void>;
  submitCode(right: boolean): Promise<void>;
  cancel(): Promise<void>;
  /** Checks that the page shows the step of this machine state, e.g. the code field for `awaitingCode`. */
  expectStep(state: string): Promise<void>;
}

/** Walks one generated path on the page: each event is an action, each state a check. */
export function testSignInPath(path: ReturnType<typeof signInModel.getShortestPaths>[number], page: SignInPage) {
  // xstate/graph types an action's event by its type alone, so the facts need a cast.
  return path.test({
    events: {
      SUBMIT_CREDENTIALS: ({ event }) => page.submitPassword((event as SubmitCredentialsEvent).passwordValid),
      SUBMIT_CODE: ({ event }) => page.submitCode((event as LoginSubmitCodeEvent).codeMatches),
      CANCEL: () => page.cancel(),
    },
    states: { "*": (state) => page.expectStep(String(state.value)) },
  });
}
