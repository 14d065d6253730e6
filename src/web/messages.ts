/**
 * Messages that the pages show for each error code of the API. Pages branch on the code,
 * never on the API's message, and each message says what happened and what to do next.
 */
import type { FlowView } from "../flows/view.js";
import type { ApiResponse } from "./api-client.js";
import { countAttempts, formatUtc } from "./format.js";

/** The name of the page's flow in messages. */
export type FlowSubject = "sign-in" | "change";

export interface Failure {
  code: string;
  message: string;
  /** The flow cannot go on, so the page offers to start again instead of its form. */
  finished: boolean;
}

export interface DescribeOptions {
  subject: FlowSubject;
  now: Date;
  /** The message for `invalid_request`, which depends on the form. */
  invalidRequest?: string;
}

/** Describes a failed API response for the reader. */
export function describeFailure(response: ApiResponse<unknown>, options: DescribeOptions): Failure {
  const code = response.error?.code ?? "internal_error";
  const retryAfterSeconds = Number(response.headers.get("retry-after") ?? "0");
  const attempts = response.error?.attemptsRemaining ?? response.flow?.attemptsRemaining;
  const subject = options.subject === "sign-in" ? "this sign-in" : "this change";
  const say = (message: string, finished = false): Failure => ({ code, message, finished });

  switch (code) {
    case "invalid_credentials":
      return say("The email or password is incorrect.");
    case "invalid_password":
      return say(
        `The password is incorrect.${attempts === undefined ? "" : ` ${countAttempts(attempts)} left.`}`,
      );
    case "invalid_code":
      return say(
        `The code is incorrect.${attempts === undefined ? "" : ` ${countAttempts(attempts)} left.`}`,
      );
    case "code_expired":
      return say("This code has expired. Send a new code, then enter it.");
    case "too_many_attempts":
      return say(`Too many wrong attempts, so ${subject} is locked. Start again.`, true);
    case "too_many_failures": {
      const until = new Date(options.now.getTime() + retryAfterSeconds * 1000).toISOString();
      return say(
        `Sign-in for this email address is paused after repeated failures. Try again after ${formatUtc(until, "datetime")}.`,
      );
    }
    case "rate_limited":
      return say(
        `Too many requests from your network. Try again in ${seconds(retryAfterSeconds)}.`,
      );
    case "resend_too_soon":
      return say(`You can ask for a new code in ${seconds(retryAfterSeconds)}.`);
    case "resend_limit_reached":
      return say(`No more codes can be sent for ${subject}. Start again.`, true);
    case "flow_expired":
      return say(`${capitalize(subject)} has expired. Start again.`, true);
    case "flow_finished":
    case "flow_not_found":
    case "event_not_allowed":
      return say(`${capitalize(subject)} has already ended. Start again.`, true);
    case "conflict":
      return say("Another request changed this step at the same moment. Try again.");
    case "invalid_request":
      return say(options.invalidRequest ?? "Check what you entered and try again.");
    case "mfa_enforced_by_organization":
      return say(
        "Your organization requires two-step verification, so it cannot be turned off.",
        true,
      );
    case "mfa_already_enabled":
      return say("Two-step verification is already on.", true);
    case "mfa_not_enabled":
      return say("Two-step verification is already off.", true);
    case "email_taken":
      return say("An account with this email address already exists. Sign in instead.");
    case "unauthenticated":
      return say("Your session has ended. Sign in again.", true);
    case "service_unavailable":
      return say("The service is busy. Try again in a moment.");
    default:
      return say("Something went wrong. Try again.");
  }
}

function seconds(count: number): string {
  return count === 1 ? "1 second" : `${count} seconds`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Describes an error code that the page found itself, such as a flow read in a final state. */
export function describeCode(code: string, options: DescribeOptions): Failure {
  const error = { code, message: "" };
  return describeFailure({ status: 409, headers: new Headers(), error }, options);
}

/** Describes a flow read in a final state other than success, or returns null while it is active. */
export function describeFinishedFlow(flow: FlowView, options: DescribeOptions): Failure | null {
  if (flow.status === "active") return null;
  if (flow.state === "locked") return describeCode("too_many_attempts", options);
  if (flow.state === "expired") return describeCode("flow_expired", options);
  return describeCode("flow_finished", options);
}
