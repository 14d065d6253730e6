/**
 * The one list of error codes, each mapped to its status, and the one error envelope:
 * `{ "error": { "code", "message", ...extra }, "flow"? }`.
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";

export const ERRORS = {
  invalid_request: { status: 400, message: "The request is invalid." },
  unauthenticated: { status: 401, message: "A valid session or operator token is required." },
  mfa_enforced_by_organization: {
    status: 403,
    message: "Your organization requires MFA, so it cannot be turned off.",
  },
  not_found: { status: 404, message: "Not found." },
  flow_not_found: { status: 404, message: "No such flow." },
  method_not_allowed: { status: 405, message: "This method is not allowed on this path." },
  email_taken: { status: 409, message: "An account with this email already exists." },
  mfa_already_enabled: { status: 409, message: "MFA is already on." },
  mfa_not_enabled: { status: 409, message: "MFA is not on." },
  flow_finished: { status: 409, message: "The flow has finished; start a new one." },
  event_not_allowed: { status: 409, message: "The flow does not accept this event now." },
  conflict: { status: 409, message: "The flow changed while this request was handled; retry." },
  resend_limit_reached: {
    status: 409,
    message: "This flow has sent its maximum number of codes; start a new one.",
  },
  member_of_another_organization: {
    status: 409,
    message: "The user belongs to another organization.",
  },
  flow_expired: { status: 410, message: "The flow has expired; start a new one." },
  payload_too_large: { status: 413, message: "The request body is larger than 64 KiB." },
  unsupported_media_type: { status: 415, message: "The request body must be application/json." },
  invalid_credentials: { status: 422, message: "The email or password is incorrect." },
  invalid_password: { status: 422, message: "The password is incorrect." },
  invalid_code: { status: 422, message: "The code is incorrect." },
  code_expired: { status: 422, message: "The code has expired; ask for a new one." },
  too_many_attempts: {
    status: 423,
    message: "Too many wrong attempts; the flow is locked. Start a new one.",
  },
  rate_limited: { status: 429, message: "Too many requests; retry later." },
  too_many_failures: {
    status: 429,
    message: "Sign-in for this address is paused after repeated failures; retry later.",
  },
  resend_too_soon: { status: 429, message: "A new code can be sent later." },
  internal_error: { status: 500, message: "An internal error occurred." },
  service_unavailable: { status: 503, message: "The service is unavailable; retry later." },
} as const satisfies Record<string, { status: ContentfulStatusCode; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export interface ApiErrorOptions {
  message?: string;
  /** Fields placed inside `error`, such as `attemptsRemaining`. */
  extra?: Record<string, unknown>;
  /** The flow the error concerns, when the caller may read it. */
  flow?: unknown;
  retryAfterSeconds?: number;
}

/** An expected failure that the HTTP edge turns into the error envelope. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;

  constructor(
    readonly code: ErrorCode,
    readonly options: ApiErrorOptions = {},
  ) {
    super(options.message ?? ERRORS[code].message);
    this.name = "ApiError";
    this.status = ERRORS[code].status;
  }

  toBody(): Record<string, unknown> {
    const body: Record<string, unknown> = {
      error: { code: this.code, message: this.message, ...this.options.extra },
    };
    if (this.options.flow !== undefined) body.flow = this.options.flow;
    return body;
  }
}
