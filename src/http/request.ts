/** Helpers that route handlers share: reading JSON bodies and authenticating the caller. */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { z } from "zod";
import { describeIssues } from "../flows/runtime.js";
import type { RequestContext } from "../flows/runtime.js";
import { type AuthenticatedSession, authenticateSession } from "../sessions.js";
import type { AppEnv } from "./app.js";
import { clientAddress } from "./client-address.js";
import { ApiError } from "./errors.js";

export const DEVICE_COOKIE = "mfa_device";

/** A UTF-16 surrogate without its pair, which JSON admits as an escape such as `\ud800`. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Tells whether any string or key in a parsed JSON value contains a lone surrogate. It walks
 * with a stack of its own, because a 64 KiB body can nest arrays deeper than the call stack
 * allows.
 */
function containsLoneSurrogate(root: unknown): boolean {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === "string") {
      if (LONE_SURROGATE.test(value)) return true;
    } else if (typeof value === "object" && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (LONE_SURROGATE.test(key)) return true;
        pending.push(item);
      }
    }
  }
  return false;
}

/**
 * Parses a JSON body: 415 for another media type, 400 for malformed JSON. A lone surrogate
 * is not text: UTF-8 cannot encode it and PostgreSQL rejects it in `jsonb`, so it gets 400 too.
 */
export async function readJson(c: Context<AppEnv>): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new ApiError("unsupported_media_type");
  const text = await c.req.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError("invalid_request", { message: "The body is not valid JSON." });
  }
  // Only an escape can produce a lone surrogate, so most bodies skip the walk.
  if (text.includes("\\u") && containsLoneSurrogate(body)) {
    throw new ApiError("invalid_request", {
      message: "The body contains an unpaired UTF-16 surrogate (\\uD800 to \\uDFFF), which is not valid text.",
    });
  }
  return body;
}

/** Parses and validates a JSON body against a strict schema. */
export async function readBody<T extends z.ZodType>(c: Context<AppEnv>, schema: T): Promise<z.infer<T>> {
  const parsed = schema.safeParse(await readJson(c));
  if (!parsed.success) throw new ApiError("invalid_request", { message: describeIssues(parsed.error.issues) });
  return parsed.data;
}

function bearerToken(c: Context<AppEnv>): string | null {
  const header = c.req.header("authorization");
  const match = header?.match(/^Bearer ([A-Za-z0-9._~+/=-]{1,512})$/);
  return match?.[1] ?? null;
}

/** Returns the caller's session, or null when there is no valid one. */
export async function findAuth(c: Context<AppEnv>): Promise<AuthenticatedSession | null> {
  if (c.get("auth") !== undefined) return c.get("auth") ?? null;
  const token = bearerToken(c);
  const { db, now } = c.get("services");
  const auth = token ? await authenticateSession(db, token, now()) : null;
  c.set("auth", auth);
  return auth;
}

/** Returns the caller's session, or answers 401. */
export async function requireAuth(c: Context<AppEnv>): Promise<AuthenticatedSession> {
  const auth = await findAuth(c);
  if (!auth) throw new ApiError("unauthenticated");
  return auth;
}

export async function requestContext(c: Context<AppEnv>): Promise<RequestContext> {
  return {
    auth: await findAuth(c),
    userAgent: c.req.header("user-agent") ?? null,
    deviceCookie: getCookie(c, DEVICE_COOKIE) ?? null,
    requestId: c.get("requestId"),
    checkRateLimit: () => limitClient(c),
  };
}

/** Counts the request against the per-client limit; 429 `rate_limited` past it. */
export function limitClient(c: Context<AppEnv>): Promise<void> {
  return c.get("services").rateLimiter.check(clientAddress(c));
}
