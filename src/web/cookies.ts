/**
 * Cookies of the web pages. The JSON API takes bearer tokens, but the pages keep the session
 * token and the id of the flow in progress in `HttpOnly; Secure; SameSite=Lax` cookies. No
 * script can read them, and no cross-site form post carries them. Browsers treat
 * http://127.0.0.1 and http://localhost as secure contexts, so `Secure` cookies work there too.
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../http/app.js";

export const SESSION_COOKIE = "mfa_session";
/** The id of the login flow in progress, its client's only credential until it completes. */
export const LOGIN_FLOW_COOKIE = "mfa_login_flow";
/** The id of the enrollment or disablement flow in progress. */
export const SETTINGS_FLOW_COOKIE = "mfa_settings_flow";

export type PageCookie =
  typeof SESSION_COOKIE | typeof LOGIN_FLOW_COOKIE | typeof SETTINGS_FLOW_COOKIE;

const ATTRIBUTES = { httpOnly: true, secure: true, sameSite: "Lax", path: "/" } as const;

/** Sets a page cookie that the browser drops at `expiresAt`, measured on the service's clock. */
export function setPageCookie(
  c: Context<AppEnv>,
  name: PageCookie,
  value: string,
  expiresAt: string,
): void {
  const now = c.get("services").now();
  const maxAge = Math.max(0, Math.floor((Date.parse(expiresAt) - now.getTime()) / 1000));
  setCookie(c, name, value, { ...ATTRIBUTES, maxAge });
}

export function readPageCookie(c: Context<AppEnv>, name: PageCookie): string | null {
  return getCookie(c, name) ?? null;
}

export function clearPageCookie(c: Context<AppEnv>, name: PageCookie): void {
  if (getCookie(c, name) !== undefined) deleteCookie(c, name, ATTRIBUTES);
}
