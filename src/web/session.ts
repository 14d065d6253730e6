/** The signed-in reader of a page, the API's types the pages read, and small request helpers. */
import type { Context } from "hono";
import type { FlowView, LoginOutput } from "../flows/view.js";
import type { AppEnv } from "../http/app.js";
import type { ApiClient, ApiResponse } from "./api-client.js";
import { DEVICE_COOKIE } from "../http/request.js";
import {
  LOGIN_FLOW_COOKIE,
  SESSION_COOKIE,
  clearPageCookie,
  readPageCookie,
  setPageCookie,
} from "./cookies.js";

/** The body of `GET /v1/me`. */
export interface Me {
  id: string;
  email: string;
  mfaEnabled: boolean;
  mfaRequired: boolean;
  organization: { id: string; name: string; mfaEnforced: boolean } | null;
}

export interface SignedIn {
  token: string;
  me: Me;
}

/** Returns the reader's session and account, or null (and drops a dead session cookie). */
export async function findSignedIn(c: Context<AppEnv>, api: ApiClient): Promise<SignedIn | null> {
  const token = readPageCookie(c, SESSION_COOKIE);
  if (!token) return null;
  const response = await api<Me>(c, "GET", "/v1/me", { token });
  if (response.data) return { token, me: response.data };
  if (response.status === 401) clearPageCookie(c, SESSION_COOKIE);
  return null;
}

/** Keeps the session of a completed login, and the device token when the API issued one. */
export function startSession(
  c: Context<AppEnv>,
  response: ApiResponse<FlowView>,
  output: LoginOutput,
): void {
  setPageCookie(c, SESSION_COOKIE, output.sessionToken, output.sessionExpiresAt);
  clearPageCookie(c, LOGIN_FLOW_COOKIE);
  // The API sets the device cookie with its attributes and the trust lifetime; pass it on as it is.
  for (const cookie of response.headers.getSetCookie()) {
    if (cookie.startsWith(`${DEVICE_COOKIE}=`)) c.header("Set-Cookie", cookie, { append: true });
  }
}

/** Reads the string fields of a form post; file fields are ignored. */
export async function readForm(c: Context<AppEnv>): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    if (typeof value === "string") fields[name] = value;
  }
  return fields;
}

const NOTICES: Record<string, string> = {
  "signed-out": "You are signed out.",
  "session-ended": "Your session has ended. Sign in again.",
  "code-sent": "A new code was sent. Codes sent before it no longer work.",
  "mfa-on":
    "Two-step verification is on. Each sign-in on a new device will ask for a code sent to your email.",
  "mfa-off": "Two-step verification is off, and your trusted devices were removed.",
  "device-revoked": "The device was removed. It will be asked for a code at its next sign-in.",
  "device-not-found": "That device was already removed.",
};

/** Returns the confirmation that the `notice` query parameter names, or null for an unknown name. */
export function readNotice(c: Context<AppEnv>): string | null {
  return NOTICES[c.req.query("notice") ?? ""] ?? null;
}
